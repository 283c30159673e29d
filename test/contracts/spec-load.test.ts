/**
 * A spec that cannot be used is a positioned error at `validate` (and `up`, `check`, hot
 * reload), never a crash: broken OpenAPI, a `$ref` to a missing file, Swagger 2.0.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSpec, mayReferToFiles } from '../../src/contracts/spec-load.js';
import { runCli } from '../helpers/cli.js';
import { testScope } from '../helpers/scope.js';

const scope = testScope();

const project = (spec: string, extra: Record<string, string> = {}) => {
  const dir = scope.project(`version: 1
mesh: { name: specs, mtls: off }
services:
  orders:
    spec: ./orders.openapi.yaml
    sim: { spec: true }
`);
  writeFileSync(path.join(dir, 'orders.openapi.yaml'), spec);
  for (const [file, text] of Object.entries(extra)) writeFileSync(path.join(dir, file), text);
  return dir;
};

const header = 'openapi: 3.0.3\ninfo: { title: orders, version: "1" }\n';

describe('meshdev validate reads the specs the config names', () => {
  it('accepts a good spec', async () => {
    const dir = project(
      `${header}paths:\n  /orders:\n    get:\n      responses:\n        "200": { description: ok }\n`,
    );
    const result = await runCli(['validate'], { cwd: dir });
    expect(result.stderr).toBe('using mesh.config.yaml\n');
    expect(result.code).toBe(0);
  });

  it('points at the line of a broken operation', async () => {
    const dir = project(
      `${header}paths:\n  /orders:\n    get:\n      responses:\n        "200":\n          descriptio: ok\n`,
    );
    const result = await runCli(['validate', '--json'], { cwd: dir });
    expect(result.code).toBe(1);
    const [issue] = JSON.parse(result.stdout) as Array<Record<string, unknown>>;
    expect(issue).toMatchObject({
      file: expect.stringMatching(/orders\.openapi\.yaml$/),
      line: 8,
      path: 'paths./orders.get.responses.200',
      message: "must have required property 'description'",
    });
  });

  it('names a $ref to a file that does not exist', async () => {
    const dir = project(
      `${header}paths:\n  /orders:\n    get:\n      responses:\n        "200":\n          description: ok\n          content:\n            application/json:\n              schema: { $ref: "./missing.yaml#/Order" }\n`,
    );
    const result = await runCli(['validate'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/orders\.openapi\.yaml.*cannot resolve a \$ref.*missing\.yaml/s);
  });

  it('says what to do with a Swagger 2.0 document', async () => {
    const dir = project('swagger: "2.0"\ninfo: { title: orders, version: "1" }\npaths: {}\n');
    const result = await runCli(['validate'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Swagger 2\.0 is not supported/);
    expect(result.stderr).toMatch(/swagger2openapi/);
  });

  it('reports YAML syntax errors with their position', async () => {
    const dir = project(`${header}paths:\n  /orders: [unclosed\n`);
    const result = await runCli(['validate', '--json'], { cwd: dir });
    expect(result.code).toBe(1);
    const [issue] = JSON.parse(result.stdout) as Array<{ line: number; message: string }>;
    expect(issue!.line).toBeGreaterThan(0);
    expect(issue!.message).toMatch(/not valid YAML/);
  });

  it('refuses sim.spec without a spec, at the key', async () => {
    const dir = scope.project(`version: 1
mesh: { name: specs }
services:
  orders:
    sim: { spec: true }
`);
    const result = await runCli(['validate', '--json'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual([
      expect.objectContaining({ path: 'services.orders.sim.spec', line: 5 }),
    ]);
  });
});

describe('the files a spec is read from (what hot reload and the spec cache watch)', () => {
  it('follows $refs to other files written in every form, JSON and YAML, transitively', async () => {
    const dir = scope.project('version: 1\n');
    const write = (name: string, text: string) => writeFileSync(path.join(dir, name), text);
    write(
      'api.json',
      JSON.stringify({
        openapi: '3.1.0',
        info: { title: 'api', version: '1' },
        paths: {
          '/a': {
            get: {
              responses: {
                '200': {
                  description: 'ok',
                  content: { 'application/json': { schema: { $ref: './a.yaml#/A' } } },
                },
              },
            },
          },
        },
      }),
    );
    // A plain scalar on the line after the key, and a quoted one leading to a third file.
    write(
      'a.yaml',
      'A:\n  type: object\n  properties:\n    b:\n      $ref:\n        ./b.yaml#/B\n',
    );
    write('b.yaml', 'B:\n  $ref: "c.json#/C"\n');
    write('c.json', '{ "C": { "type": "string" } }');
    const spec = await loadSpec(path.join(dir, 'api.json'));
    expect(spec.files.map((file) => path.basename(file))).toEqual([
      'api.json',
      'a.yaml',
      'b.yaml',
      'c.json',
    ]);
  });

  it('skips the second parse only when every $ref is a local pointer', () => {
    expect(mayReferToFiles('openapi: 3.1.0\npaths: {}\n')).toBe(false);
    expect(mayReferToFiles("schema: { $ref: '#/components/schemas/A' }\n")).toBe(false);
    expect(mayReferToFiles('{"schema": {"$ref": "#/components/schemas/A"}}')).toBe(false);
    expect(mayReferToFiles('schema: { $ref: ./other.yaml }\n')).toBe(true);
    expect(mayReferToFiles('{"$ref":"other.json#/A"}')).toBe(true);
    expect(mayReferToFiles('$ref:\n  "#/A"\n')).toBe(true); // unsure: parsed
    expect(mayReferToFiles("description: a $ref in prose\nx: { $ref: '#/A' }\n")).toBe(true);
  });
});
