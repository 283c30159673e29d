/**
 * Specs that compiled before and have not changed come from `.meshdev/cache/openapi/`:
 * the same document, validators compiled when first needed (and still finding
 * violations), a change to the spec or to a file its `$ref`s reach loaded in full again
 * (a broken one reported, never served stale), and a fresh process that needs neither
 * the parser nor ajv to start.
 */
import { execFile } from 'node:child_process';
import { readdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/config-error.js';
import { loadContracts } from '../../src/contracts/contract-set.js';
import { SpecCache } from '../../src/contracts/spec-cache.js';
import { loadSpec } from '../../src/contracts/spec-load.js';
import { testScope } from '../helpers/scope.js';

const scope = testScope();
const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

const SPEC = `openapi: 3.0.3
info: { title: orders, version: "1" }
paths:
  /orders:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: { $ref: "./schemas.yaml#/Order" }
`;
const schemas = (idType: string) =>
  `Order:\n  type: object\n  required: [id]\n  properties:\n    id: { type: ${idType} }\n`;

/** Writes a file saved a while ago (a file saved during a load is not cached: see below). */
function save(dir: string, name: string, text: string): void {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  const past = new Date(Date.now() - 10_000);
  utimesSync(file, past, past);
}

function project(): string {
  const dir = scope.project(`version: 1
mesh: { name: cached, mtls: off }
services:
  orders: { port: 1, spec: ./orders.openapi.yaml }
`);
  save(dir, 'orders.openapi.yaml', SPEC);
  save(dir, 'schemas.yaml', schemas('integer'));
  return dir;
}

async function ordersContract(dir: string) {
  const contracts = await loadContracts(loadConfigFile(path.join(dir, 'mesh.config.yaml')));
  return contracts.forInstance('orders', 'default')!;
}

/** The response-body validator of GET /orders 200. */
function responseCheck(contract: Awaited<ReturnType<typeof ordersContract>>) {
  const operation = contract.index.operations.find((op) => op.key === 'GET /orders')!;
  const media = operation.responses.find((r) => r.key === '200')!.content[0]!;
  return contract.bodyCheck('response', media.type, media.schemaPath!);
}

describe('the spec cache', () => {
  it('serves an unchanged spec from the cache, compiling validators when first needed', async () => {
    const dir = project();
    const first = await ordersContract(dir);
    expect(first.spec.cached).toBeFalsy();
    expect(readdirSync(path.join(dir, '.meshdev', 'cache', 'openapi'))).toHaveLength(1);

    const second = await ordersContract(dir);
    expect(second.spec.cached).toBe(true);
    expect(second.spec.doc).toEqual(first.spec.doc);
    expect(second.spec.files).toEqual(first.spec.files);
    // Compiled on demand, and as strict as the eagerly compiled one.
    expect(responseCheck(second)({ id: 7 })).toBeUndefined();
    expect(responseCheck(second)({ id: 'seven' })?.[0]).toMatchObject({ instancePath: '/id' });
    expect(responseCheck(first)({ id: 'seven' })?.[0]).toMatchObject({ instancePath: '/id' });
    second.compileAll(); // what the mesh does once it is up: the rest, without error
  });

  it('loads a spec in full again when a file its $refs reach changes, and reports it broken', async () => {
    const dir = project();
    await ordersContract(dir);
    save(dir, 'schemas.yaml', schemas('string'));
    const changed = await ordersContract(dir);
    expect(changed.spec.cached).toBeFalsy();
    expect(responseCheck(changed)({ id: 'seven' })).toBeUndefined();
    expect((await ordersContract(dir)).spec.cached).toBe(true);

    // A broken schema file is reported, not answered from the last good load.
    writeFileSync(path.join(dir, 'schemas.yaml'), 'Order:\n  type: [unclosed\n');
    await expect(ordersContract(dir)).rejects.toBeInstanceOf(ConfigError);
    writeFileSync(
      path.join(dir, 'orders.openapi.yaml'),
      SPEC.replace('description: ok', 'descr: ok'),
    );
    writeFileSync(path.join(dir, 'schemas.yaml'), schemas('integer'));
    await expect(ordersContract(dir)).rejects.toThrow(/must have required property 'description'/);
  });

  it('does not keep a spec whose file was saved again while it was being read', async () => {
    const dir = project();
    const cache = new SpecCache(path.join(dir, '.meshdev', 'cache', 'openapi'));
    const file = path.join(dir, 'orders.openapi.yaml');
    const spec = await loadSpec(file, cache);
    // An editor's second write lands between reading the spec and storing it.
    writeFileSync(path.join(dir, 'schemas.yaml'), schemas('string'));
    await cache.store(spec);
    expect(await cache.lookup(file)).toBeUndefined();
    // Saved before the read began, the same spec is kept.
    save(dir, 'schemas.yaml', schemas('integer'));
    const again = await loadSpec(file, cache);
    await cache.store(again);
    expect((await cache.lookup(file))?.cached).toBe(true);
  });

  it('ignores a damaged cache entry', async () => {
    const dir = project();
    await ordersContract(dir);
    const cacheDir = path.join(dir, '.meshdev', 'cache', 'openapi');
    for (const name of readdirSync(cacheDir)) writeFileSync(path.join(cacheDir, name), '{"key": 1');
    const contract = await ordersContract(dir);
    expect(contract.spec.cached).toBeFalsy();
    expect(responseCheck(contract)({ id: 'seven' })).toBeDefined();
  });

  it('lets a fresh process load cached contracts without loading ajv', async () => {
    const dir = project();
    await ordersContract(dir); // fills the cache
    const script = `
      import { createRequire } from 'node:module';
      const { loadConfigFile } = await import(${JSON.stringify(path.join(ROOT, 'dist/config/load.js'))});
      const { loadContracts } = await import(${JSON.stringify(path.join(ROOT, 'dist/contracts/contract-set.js'))});
      const contracts = await loadContracts(loadConfigFile(${JSON.stringify(path.join(dir, 'mesh.config.yaml'))}));
      const ajvLoaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('/node_modules/ajv/dist/'));
      const before = ajvLoaded();
      contracts.compileAll();
      console.log(JSON.stringify({ cached: contracts.forInstance('orders', 'default').spec.cached, before, after: ajvLoaded() }));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: dir,
    });
    expect(JSON.parse(stdout)).toEqual({ cached: true, before: false, after: true });
  });
});
