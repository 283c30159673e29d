/**
 * `meshdev check` as CI runs it: a real child process, the reports read back (the JUnit
 * file parsed as XML), and each exit code — 0 all passed, 1 a check failed, 2 a config,
 * spec or usage error.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

const CHECK_TIMEOUT = 60_000;

/** A copy of a fixture project in a temp dir (its `.meshdev/` state stays there). */
function copyProject(files: string[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'meshdev-check-'));
  for (const file of files)
    cpSync(path.resolve(file), path.join(dir, path.basename(file)), { recursive: true });
  return dir;
}

interface JUnitCase {
  name: string;
  classname: string;
  file: string;
  failure?: { type: string; message: string; '#text': string };
}
interface JUnitSuite {
  name: string;
  tests: string;
  failures: string;
  time: string;
  testcase: JUnitCase[];
}

function readJUnit(file: string): JUnitSuite[] {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    isArray: (name) => name === 'testsuite' || name === 'testcase',
  });
  const xml = parser.parse(readFileSync(file, 'utf8')) as {
    testsuites: { testsuite: JUnitSuite[] };
  };
  return xml.testsuites.testsuite;
}

describe('meshdev check', () => {
  it('fails (exit 1) on a drifted service, with JUnit and JSON reports that say where', async () => {
    const dir = copyProject([
      'fixtures/contracts/mesh.config.yaml',
      'fixtures/contracts/orders.openapi.yaml',
      'fixtures/contracts/schemas.yaml',
    ]);
    const result = await runCli(
      ['check', '--free-ports', '--junit', 'report.xml', '--json', 'report.json'],
      {
        cwd: dir,
        timeoutMs: CHECK_TIMEOUT,
      },
    );
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toMatch(/^PASS healthy order/m);
    expect(result.stdout).toMatch(/^FAIL drifted order/m);
    expect(result.stdout).toContain(
      'error response.body.id type: id must be integer (expected integer, got "two")',
    );

    const suites = readJUnit(path.join(dir, 'report.xml'));
    expect(suites.map((s) => s.name)).toEqual(['healthy order', 'drifted order']);
    const drifted = suites[1]!;
    expect(Number(drifted.time)).toBeGreaterThan(0);
    const contract = drifted.testcase.find((c) => c.classname === 'shop->orders')!;
    expect(contract).toMatchObject({ name: 'GET /orders/{id}', file: 'orders.openapi.yaml' });
    expect(contract.failure).toMatchObject({
      type: 'type',
      message: '2 contract violations: id must be integer',
    });
    expect(contract.failure!['#text']).toContain(
      'GET /orders/2 → 200: error response.body.quantity minimum',
    );
    const expectation = drifted.testcase.find((c) => c.name === 'violations')!;
    expect(expectation.failure!.type).toBe('drifted order');
    expect(suites[0]!.testcase.every((c) => c.failure === undefined)).toBe(true);
    expect(Number(drifted.failures)).toBe(2);

    const json = JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as {
      checks: Array<{ name: string; passed: boolean }>;
      violations: Array<Record<string, unknown>>;
      coverage: Record<string, { declared: number; exercised: number }>;
    };
    expect(json.checks.map((c) => [c.name, c.passed])).toEqual([
      ['healthy order', true],
      ['drifted order', false],
    ]);
    expect(json.violations).toContainEqual(
      expect.objectContaining({
        caller: 'shop',
        service: 'orders',
        method: 'GET',
        path: '/orders/2',
        operation: 'GET /orders/{id}',
        status: 200,
        location: ['response', 'body', 'id'],
        severity: 'error',
        code: 'type',
        expected: 'integer',
        actual: '"two"',
      }),
    );
    expect(json.coverage['orders.openapi.yaml']).toMatchObject({ declared: 5, exercised: 1 });
  });

  it('passes (exit 0) with --only the healthy check', async () => {
    const dir = copyProject([
      'fixtures/contracts/mesh.config.yaml',
      'fixtures/contracts/orders.openapi.yaml',
      'fixtures/contracts/schemas.yaml',
    ]);
    const result = await runCli(['check', '--free-ports', '--only', 'healthy order'], {
      cwd: dir,
      timeoutMs: CHECK_TIMEOUT,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/1 check passed \(seed 7\)/);
  });

  it('exits 2 on a config error, a broken spec, or an unknown check', async () => {
    const dir = copyProject([
      'fixtures/contracts/mesh.config.yaml',
      'fixtures/contracts/orders.openapi.yaml',
      'fixtures/contracts/schemas.yaml',
    ]);
    const unknown = await runCli(['check', '--free-ports', '--only', 'nope'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--only: no check "nope"/);

    writeFileSync(path.join(dir, 'orders.openapi.yaml'), 'openapi: 3.0.3\npaths: {}\n');
    const spec = await runCli(['check', '--free-ports'], { cwd: dir });
    expect(spec.code).toBe(2);
    expect(spec.stderr).toMatch(/orders\.openapi\.yaml/);

    writeFileSync(
      path.join(dir, 'mesh.config.yaml'),
      'version: 1\nmesh: { name: x }\nservices: {}\nchecks: [{ name: a, requests: [{ path: / }] }]\n',
    );
    const config = await runCli(['check', '--free-ports'], { cwd: dir });
    expect(config.code).toBe(2);
    expect(config.stderr).toMatch(/no gateway is configured/);
  });

  it('runs a shell command with the mesh URLs, and its exit code is an expectation', async () => {
    const dir = copyProject([
      'fixtures/contracts/orders.openapi.yaml',
      'fixtures/contracts/schemas.yaml',
    ]);
    writeFileSync(
      path.join(dir, 'e2e.mjs'),
      `const r = await fetch(process.env.SHOP_URL + '/order/1');
console.log('e2e got', r.status, 'from', process.env.MESH_GATEWAY_URL === undefined ? 'nowhere' : 'the gateway');
process.exit(r.status === 200 ? Number(process.argv[2]) : 9);
`,
    );
    const base = readFileSync(path.resolve('fixtures/contracts/mesh.config.yaml'), 'utf8').replace(
      /\nchecks:[\s\S]*$/,
      '\n',
    );
    writeFileSync(
      path.join(dir, 'mesh.config.yaml'),
      `${base}checks:
  - { name: e2e passes, run: node e2e.mjs 0 }
  - { name: e2e fails, run: node e2e.mjs 3 }
`,
    );
    const result = await runCli(['check', '--free-ports', '--json', 'r.json'], {
      cwd: dir,
      timeoutMs: CHECK_TIMEOUT,
    });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain('│ e2e got 200 from the gateway');
    const json = JSON.parse(readFileSync(path.join(dir, 'r.json'), 'utf8')) as {
      checks: Array<{
        name: string;
        passed: boolean;
        expectations: Array<{ name: string; measured: string }>;
      }>;
    };
    expect(json.checks.map((c) => c.passed)).toEqual([true, false]);
    expect(json.checks[1]!.expectations).toContainEqual(
      expect.objectContaining({ name: 'run exit code', measured: 'exit 3' }),
    );
  });

  it('never writes a secret into a report', async () => {
    const dir = copyProject([
      'fixtures/contracts/orders.openapi.yaml',
      'fixtures/contracts/schemas.yaml',
    ]);
    writeFileSync(
      path.join(dir, 'mesh.config.yaml'),
      `version: 1
mesh: { name: secrets, mtls: off }
gateway: { port: 0, routes: [{ path: /, service: orders }] }
services:
  orders:
    spec: ./orders.openapi.yaml
    sim:
      routes:
        - { path: /orders, headers: { x-total: "1" }, body: { token: BSECRET-1, cardPin: BSECRET-2 } }
checks:
  - name: leaky
    requests:
      - path: /orders?api_key=QSECRET-3&limit=x
        headers: { x-tenant: t-1, authorization: "Bearer HSECRET-4", x-api-key: HSECRET-5 }
`,
    );
    const result = await runCli(['check', '--free-ports', '--junit', 'r.xml', '--json', 'r.json'], {
      cwd: dir,
      timeoutMs: CHECK_TIMEOUT,
    });
    expect(result.code, result.stderr).toBe(1);
    const reports = [
      result.stdout,
      readFileSync(path.join(dir, 'r.xml'), 'utf8'),
      readFileSync(path.join(dir, 'r.json'), 'utf8'),
    ];
    for (const report of reports) {
      expect(report).toContain('[redacted]');
      expect(report).not.toMatch(/SECRET/);
    }
  });

  it('passes on the bundled demo', async () => {
    const dir = copyProject(['mesh.config.yaml', 'specs']);
    const result = await runCli(['check', '--free-ports', '--junit', 'junit.xml'], {
      cwd: dir,
      timeoutMs: CHECK_TIMEOUT,
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/4 checks passed \(seed 42\)/);
    const suites = readJUnit(path.join(dir, 'junit.xml'));
    expect(suites.map((s) => s.name)).toEqual([
      'checkout',
      'payments canary down',
      'browse under load',
      'explore the API',
    ]);
    expect(suites.flatMap((s) => s.testcase).some((c) => c.classname === 'orders->payments')).toBe(
      true,
    );
  });
});
