/**
 * `meshdev check`'s `explore:` (Schemathesis-style): requests made up from a service's
 * spec, every one valid against it, sent through the gateway; the mesh's contract check
 * and the expectations judge the answers. Run as CI runs it (a child process, the JSON
 * report read back) on a fixture with a drifted service and a contract-true mock.
 */
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadContract, type Contract } from '../src/contracts/contract.js';
import { checkRequest } from '../src/contracts/check-request.js';
import { loadFaker } from '../src/contracts/mock-dynamic.js';
import { exploreContract } from '../src/check/explore.js';
import { seededRandom } from '../src/lib/random.js';
import { runCli } from './helpers/cli.js';

const ITEMS = path.resolve('fixtures/explore/items.openapi.yaml');

describe('the requests explore makes up', () => {
  let contract: Contract;
  beforeAll(async () => {
    contract = await loadContract(ITEMS);
    await loadFaker();
  });

  it('every operation, valid against the contract, at the gateway path of the route', () => {
    const made = exploreContract(
      contract,
      [{ prefix: '/api', stripPrefix: true }],
      20,
      seededRandom(1),
    );
    expect(made.skipped).toEqual([]);
    const byOperation = new Map<string, typeof made.requests>();
    for (const request of made.requests)
      byOperation.set(request.operation, [...(byOperation.get(request.operation) ?? []), request]);
    expect([...byOperation.keys()].sort()).toEqual([
      'GET /items',
      'GET /items/{id}',
      'POST /items',
    ]);
    for (const request of made.requests) {
      expect(request.path).toMatch(/^\/api\/items/);
      const [pathname, query = ''] = request.path.slice('/api'.length).split('?');
      const match = contract.index.match(request.method, pathname!);
      if (match.kind !== 'operation') throw new Error(`${request.path} matches nothing`);
      const violations = checkRequest(contract, match.operation, match.pathParams, {
        method: request.method,
        query,
        headers: request.headers,
        body: request.body ?? Buffer.alloc(0),
        bodyKnown: true,
      });
      expect(violations, request.path).toEqual([]);
    }
    // The first request of each operation is the document's own example (Schemathesis'
    // explicit phase); the rest are made up.
    expect(byOperation.get('GET /items/{id}')![0]!.path).toBe('/api/items/7');
    expect(byOperation.get('GET /items/{id}')![1]!.path).not.toBe('/api/items/7');
    expect(JSON.parse(byOperation.get('POST /items')![0]!.body!.toString())).toEqual({
      name: 'lamp',
      color: 'red',
    });
    // Bodies leave out what the server sets (readOnly `id`) and vary.
    const bodies = byOperation.get('POST /items')!.map((r) => JSON.parse(r.body!.toString()));
    expect(bodies.some((body) => 'id' in body)).toBe(false);
    expect(new Set(bodies.map((body) => JSON.stringify(body))).size).toBeGreaterThan(10);
    // Optional query parameters both sent and left out; an exploded array as repeated keys.
    const lists = byOperation.get('GET /items')!.map((r) => r.path);
    expect(lists.some((p) => p === '/api/items')).toBe(true);
    expect(lists.some((p) => /[?&]limit=\d+/.test(p))).toBe(true);
    expect(lists.some((p) => /tag=(red|blue)&tag=(red|blue)/.test(p))).toBe(true);
  });

  it('each operation goes through the first route that reaches it; one no route reaches is said left out', () => {
    const routes = [
      { prefix: '/status', stripPrefix: false },
      { prefix: '/items/', stripPrefix: false },
    ];
    const made = exploreContract(contract, routes, 2, seededRandom(2));
    expect(made.skipped).toEqual([]);
    expect(made.requests).toHaveLength(6);
    expect(made.requests.every((request) => request.path.startsWith('/items'))).toBe(true);
    const elsewhere = exploreContract(
      contract,
      [{ prefix: '/other', stripPrefix: false }],
      2,
      seededRandom(2),
    );
    expect(elsewhere.requests).toEqual([]);
    expect(elsewhere.skipped).toContainEqual({
      operation: 'GET /items/{id}',
      reason:
        'no gateway route reaches /items/{id} (routes to the service: /other; one with stripPrefix reaches every path)',
    });
  });

  it('the same seed makes the same requests', () => {
    const run = () =>
      exploreContract(
        contract,
        [{ prefix: '/', stripPrefix: false }],
        3,
        seededRandom(9),
      ).requests.map(
        (request) => `${request.method} ${request.path} ${request.body?.toString() ?? ''}`,
      );
    expect(run()).toEqual(run());
  });
});

describe('meshdev check with explore', () => {
  it('fails on the drifted service (a 5xx and a body off its schema) and passes on the contract-true mock', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'meshdev-explore-'));
    cpSync(path.resolve('fixtures/explore'), dir, { recursive: true });
    const result = await runCli(['check', '--free-ports', '--json', 'report.json'], {
      cwd: dir,
      timeoutMs: 60_000,
    });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toMatch(/^FAIL explore items/m);
    expect(result.stdout).toMatch(/^PASS explore catalog/m);
    expect(result.stderr).toContain('explore items: 12 requests made up for 3 operations');
    const report = JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as {
      checks: Array<{
        name: string;
        calls: number;
        expectations: Array<{ name: string; passed: boolean; measured: unknown }>;
      }>;
      violations: Array<{ check: string; operation: string; code: string; location: string }>;
    };
    const [items, catalog] = report.checks;
    const failed = items!.expectations.filter((e) => !e.passed).map((e) => e.name);
    expect(failed.sort()).toEqual(['status 5xx', 'violations']);
    expect(items!.expectations.find((e) => e.name === 'explore')).toMatchObject({
      passed: true,
      measured: '12 requests made up for 3 operations',
    });
    // The type drift of GET /items/{id}: an error on every one of its four calls.
    const drift = report.violations.filter((v) => v.check === 'explore items' && v.code === 'type');
    expect(drift.map((v) => v.operation)).toEqual(Array(4).fill('GET /items/{id}'));
    expect(catalog!.expectations.every((e) => e.passed)).toBe(true);
    expect(report.violations.filter((v) => v.check === 'explore catalog')).toEqual([]);
  });
});
