/**
 * Contract modes end to end: `report` tells the caller how many violations it saw and
 * never changes the answer; `enforce` refuses a bad request before the callee is called
 * (422, 401 for a missing credential) and a bad answer after (502, flag CV); secrets never
 * reach a violation; metrics count violations; a spec edit recompiles on reload; a
 * simulated service answers from its contract.
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPLY_HEADER, scripted } from '../../fixtures/servers/upstreams.js';
import { loadConfigFile } from '../../src/config/load.js';
import { MeshController } from '../../src/controlplane/controller.js';
import type { CallRecord } from '../../src/telemetry/call-record.js';
import { testScope } from '../helpers/scope.js';

const scope = testScope();
const FIXTURES = path.resolve('fixtures/contracts');

const config = (mode: string) => `version: 1
mesh: { name: modes, mtls: off, admin: { port: 0 }, ports: { from: 0 }, contracts: ${mode} }
gateway: { port: 0, routes: [{ path: /, service: orders }] }
services:
  orders: { port: "\${P}", spec: ${FIXTURES}/orders.openapi.yaml }
`;

const order = { id: 1, item: 'book', quantity: 2 };

async function callOnce(
  gateway: string,
  requestPath: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; reply?: unknown } = {},
) {
  const response = await fetch(`${gateway}${requestPath}`, {
    method: init.method ?? 'GET',
    headers: { ...init.headers, [REPLY_HEADER]: JSON.stringify(init.reply ?? {}) },
    body: init.body,
  });
  return { response, text: await response.text() };
}

/** A project dir holding the fixture specs, run by a controller (watching when asked). */
async function project(port: number, watch: boolean) {
  const dir = mkdtempSync(path.join(tmpdir(), 'meshdev-spec-'));
  cpSync(FIXTURES, dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'mesh.config.yaml'),
    config('report')
      .replace(`${FIXTURES}/orders.openapi.yaml`, './orders.openapi.yaml')
      .replace('"${P}"', String(port)),
  );
  const controller = await MeshController.start(
    loadConfigFile(path.join(dir, 'mesh.config.yaml')),
    { ephemeralPorts: true, watch, stateDir: path.join(dir, '.meshdev') },
  );
  scope.defer(() => controller.stop(0));
  return { dir, controller };
}

async function lastCall(calls: CallRecord[], count = 1): Promise<CallRecord> {
  for (let i = 0; i < 200 && calls.length < count; i++) await new Promise((r) => setTimeout(r, 10));
  return calls[count - 1]!;
}

describe('contracts: report mode', () => {
  it('tells the caller the count in x-meshdev-violations and delivers the body unchanged', async () => {
    const upstream = await scope.server(scripted());
    const m = await scope.mesh(config('report'), { P: String(upstream.port) });
    const big = { ...order, id: 'one', note: 'x'.repeat(200_000) };
    const { response, text } = await callOnce(m.gateway, '/orders/abc', {
      reply: { body: { ...order, id: 'one' }, pad: { field: 'note', bytes: 200_000 } },
    });
    expect(response.status).toBe(200);
    // The request violation (path id) is known when the head goes back; the body's after.
    expect(response.headers.get('x-meshdev-violations')).toBe('1');
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    expect(sha(text)).toBe(sha(JSON.stringify(big)));
    const call = await lastCall(m.calls);
    expect(call.violations!.map((v) => v.location.join('.'))).toEqual([
      'request.path.id',
      'response.body.id',
    ]);
    const bodyViolation = call.violations![1]!;
    expect(bodyViolation).toMatchObject({
      expected: 'integer',
      actual: '"one"',
      severity: 'error',
    });
    expect(call.operation).toBe('GET /orders/{id}');
    expect(call.response).toBe('200');
  });

  it('redacts secrets: credentials, secret query values, password and writeOnly fields', async () => {
    const upstream = await scope.server(scripted());
    const m = await scope.mesh(config('report'), { P: String(upstream.port) });
    // GET /orders answers an array; this object fails at the root and is excerpted whole.
    await callOnce(m.gateway, '/orders?api_key=QSECRET-1&limit=2', {
      headers: { 'x-tenant': 't-1', authorization: 'Bearer HSECRET-2', 'x-api-key': 'HSECRET-3' },
      reply: {
        headers: { 'x-total': '1' },
        body: { token: 'BSECRET-4', cardPin: 'BSECRET-5', nested: { password: 'BSECRET-6' } },
      },
    });
    const call = await lastCall(m.calls);
    const root = call.violations!.find((v) => v.location.join('.') === 'response.body')!;
    expect(root.code).toBe('type');
    expect(root.actual).toContain('"token":"[redacted]"');
    expect(root.actual).toContain('"cardPin":"[redacted]"');
    expect(root.actual).toContain('"password":"[redacted]"');
    expect(JSON.stringify(call.violations)).not.toMatch(/SECRET/);
  });

  it('checks nothing for answers the mesh made itself (an injected abort)', async () => {
    const upstream = await scope.server(scripted());
    const m = await scope.mesh(
      config('report').replace(
        'spec:',
        'faults: [{ abort: { status: 503, percent: 100 } }], spec:',
      ),
      { P: String(upstream.port) },
    );
    const { response } = await callOnce(m.gateway, '/orders/1', { reply: { body: order } });
    expect(response.status).toBe(503);
    const call = await lastCall(m.calls);
    expect(call.flags).toContain('FI');
    expect(call.violations).toEqual([]);
    expect(upstream.requests).toBe(0);
  });
});

describe('contracts: enforce mode', () => {
  it('refuses a bad request with 422 before the callee is called, listing the violations', async () => {
    const upstream = await scope.server(scripted());
    const m = await scope.mesh(config('enforce'), { P: String(upstream.port) });
    const { response, text } = await callOnce(m.gateway, '/orders/abc', { reply: { body: order } });
    expect(response.status).toBe(422);
    expect(response.headers.get('x-meshdev-error')).toBe('contract_request');
    const body = JSON.parse(text) as { service: string; flags: string[]; violations: unknown[] };
    expect(body.service).toBe('orders');
    expect(body.flags).toContain('CV');
    expect(body.violations).toEqual([
      expect.objectContaining({
        location: ['request', 'path', 'id'],
        code: 'type',
        actual: '"abc"',
      }),
    ]);
    expect(upstream.requests).toBe(0);
    expect((await lastCall(m.calls)).flags).toContain('CV');
  });

  it('answers a missing credential with 401', async () => {
    const upstream = await scope.server(scripted());
    const m = await scope.mesh(config('enforce'), { P: String(upstream.port) });
    const { response } = await callOnce(m.gateway, '/orders', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ item: 'book', quantity: 1 }),
    });
    expect(response.status).toBe(401);
    expect(upstream.requests).toBe(0);
  });

  it('replaces an answer that breaks the contract with 502, and passes a good one', async () => {
    const upstream = await scope.server(scripted());
    const m = await scope.mesh(config('enforce'), { P: String(upstream.port) });
    const bad = await callOnce(m.gateway, '/orders/1', {
      reply: { body: { ...order, quantity: 0 } },
    });
    expect(bad.response.status).toBe(502);
    expect(JSON.parse(bad.text)).toMatchObject({
      error: 'contract_response',
      violations: [{ location: ['response', 'body', 'quantity'], code: 'minimum', actual: '0' }],
    });
    const good = await callOnce(m.gateway, '/orders/1', { reply: { body: order } });
    expect(good.response.status).toBe(200);
    expect(JSON.parse(good.text)).toEqual(order);
    expect(good.response.headers.get('x-meshdev-violations')).toBeNull();
    expect(upstream.requests).toBe(2);
  });

  it('streams an answer too large to hold (over 1 MiB) without checking its body', async () => {
    const upstream = await scope.server(scripted());
    const m = await scope.mesh(config('enforce'), { P: String(upstream.port) });
    const huge = { ...order, id: 'not-a-number', note: 'x'.repeat(1_500_000) };
    const { response, text } = await callOnce(m.gateway, '/orders/1', {
      reply: { body: { ...order, id: 'not-a-number' }, pad: { field: 'note', bytes: 1_500_000 } },
    });
    expect(response.status).toBe(200);
    expect(text).toBe(JSON.stringify(huge));
  });
});

describe('contracts: live specs', () => {
  it('a spec edit recompiles on reload; a broken spec is refused and the old one stays', async () => {
    const upstream = await scope.server(scripted());
    const { dir, controller } = await project(upstream.port, false);
    const calls: CallRecord[] = [];
    controller.bus.on('call', (call) => calls.push(call));
    const gateway = `http://127.0.0.1:${controller.mesh.gatewayPort()}`;
    const stringId = { ...order, id: 'A-1' };
    await callOnce(gateway, '/orders/1', { reply: { body: stringId } });
    expect((await lastCall(calls, 1)).violations?.map((v) => v.code)).toEqual(['type']);

    const schemas = path.join(dir, 'orders.openapi.yaml');
    const text = readFileSync(schemas, 'utf8');
    // Orders now answer with their own schema: ids are strings.
    writeFileSync(
      schemas,
      text.replace(
        /(getOrder[\s\S]*?)schema: \{ \$ref: '\.\/schemas\.yaml#\/Order' \}/,
        '$1schema: { type: object, properties: { id: { type: string } } }',
      ),
    );
    const reloaded = await controller.reload();
    expect(reloaded, reloaded.message).toMatchObject({ applied: true });
    await callOnce(gateway, '/orders/1', { reply: { body: stringId } });
    expect((await lastCall(calls, 2)).violations).toEqual([]);

    writeFileSync(schemas, 'openapi: 3.0.3\npaths: {}\n');
    const refused = await controller.reload();
    expect(refused.refused).toBe(true);
    expect(refused.message).toMatch(/orders\.openapi\.yaml/);
    await callOnce(gateway, '/orders/1', { reply: { body: stringId } });
    expect((await lastCall(calls, 3)).violations).toEqual([]);
    expect(await controller.metrics.text()).toMatch(
      /meshdev_contract_violations_total\{destination_service_name="orders",operation="GET \/orders\/\{id\}",severity="error",location_kind="response.body"\} 1/,
    );
    const snapshot = controller.contracts.snapshot();
    expect(snapshot.operations[0]).toMatchObject({
      service: 'orders',
      operation: 'GET /orders/{id}',
      calls: 3,
      errors: 1,
    });
  });
});

describe('contracts: files and versions', () => {
  it('an edit of a file a $ref reaches is seen by the watcher and recompiles', async () => {
    const upstream = await scope.server(scripted());
    const { dir, controller } = await project(upstream.port, true);
    const calls: CallRecord[] = [];
    controller.bus.on('call', (call) => calls.push(call));
    const statuses: string[] = [];
    controller.bus.on('config', (status) => statuses.push(status.message));
    const gateway = `http://127.0.0.1:${controller.mesh.gatewayPort()}`;
    const bigOrder = { ...order, quantity: 500 };
    await callOnce(gateway, '/orders/1', { reply: { body: bigOrder } });
    expect((await lastCall(calls, 1)).violations).toEqual([]);

    // schemas.yaml is only reached through a $ref of orders.openapi.yaml.
    const schemas = path.join(dir, 'schemas.yaml');
    writeFileSync(
      schemas,
      readFileSync(schemas, 'utf8').replace(
        'quantity: { type: integer, minimum: 1 }',
        'quantity: { type: integer, minimum: 1, maximum: 100 }',
      ),
    );
    for (let i = 0; i < 300 && statuses.length === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(statuses).toEqual(['a file the config points at changed']);
    await callOnce(gateway, '/orders/1', { reply: { body: bigOrder } });
    expect((await lastCall(calls, 2)).violations?.map((v) => v.location.join('.'))).toEqual([
      'response.body.quantity',
    ]);
  });

  it("a version with its own spec is checked against it, the others against the service's", async () => {
    const v1 = await scope.server(scripted());
    const v2 = await scope.server(scripted());
    const m = await scope.mesh(
      `version: 1
mesh: { name: versions, mtls: off, admin: { port: 0 }, ports: { from: 0 } }
gateway:
  port: 0
  routes:
    - { path: /v1, service: orders, version: v1, stripPrefix: true }
    - { path: /v2, service: orders, version: v2, stripPrefix: true }
services:
  orders:
    spec: ${FIXTURES}/orders.openapi.yaml
    versions:
      v1: { port: "\${P}" }
      v2: { port: "\${Q}", spec: ${FIXTURES}/catalog.openapi.yaml }
`,
      { P: String(v1.port), Q: String(v2.port) },
    );
    await callOnce(m.gateway, '/v1/items/ABC-1', { reply: { body: { sku: 'ABC-1' } } });
    await callOnce(m.gateway, '/v2/items/ABC-1', { reply: { body: { sku: 'ABC-1' } } });
    const [first, second] = [await lastCall(m.calls, 1), await lastCall(m.calls, 2)];
    expect(first).toMatchObject({ version: 'v1', operation: undefined });
    expect(first.violations!.map((v) => v.code)).toEqual(['unknown-path']);
    expect(second).toMatchObject({ version: 'v2', operation: 'GET /items/{sku}', violations: [] });
  });
});

describe('contracts: simulated from the spec (sim.spec: true)', () => {
  it('answers every operation with its example or a generated value that passes the contract', async () => {
    const m = await scope.mesh(`version: 1
mesh: { name: mock, mtls: off, admin: { port: 0 }, ports: { from: 0 } }
gateway: { port: 0, routes: [{ path: /, service: orders }] }
services:
  orders: { spec: ${FIXTURES}/orders.openapi.yaml, sim: { spec: true } }
`);
    const one = await fetch(`${m.gateway}/orders/1`);
    expect(one.status).toBe(200);
    expect(await one.json()).toEqual({ id: 1, item: 'book', quantity: 2 }); // the example
    const list = await fetch(`${m.gateway}/orders`, { headers: { 'x-tenant': 't-1' } });
    expect(list.status).toBe(200);
    expect(list.headers.get('x-total')).toMatch(/^\d+$/);
    expect(Array.isArray(await list.json())).toBe(true);
    const created = await fetch(`${m.gateway}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'k' },
      body: JSON.stringify({ item: 'pen', quantity: 1 }),
    });
    expect(created.status).toBe(201);
    const missing = await fetch(`${m.gateway}/orders/9`, { headers: { prefer: 'code=404' } });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toHaveProperty('message');
    const calls = await (async () => {
      for (let i = 0; i < 200 && m.calls.length < 4; i++)
        await new Promise((r) => setTimeout(r, 10));
      return m.calls;
    })();
    expect(calls.map((c) => c.violations)).toEqual([[], [], [], []]);
  });
  it('answers as Prism does through the gateway: 405 with Allow, 422 problem+json, Accept, 401', async () => {
    const m = await scope.mesh(`version: 1
mesh: { name: mock, admin: { port: 0 }, ports: { from: 0 } }
gateway: { port: 0, routes: [{ path: /, service: pets }] }
services:
  pets: { spec: ${FIXTURES}/pets.openapi.yaml, sim: { spec: true } }
`);
    const wrongMethod = await fetch(`${m.gateway}/pets/1`, { method: 'PUT' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, DELETE');
    const invalid = await fetch(`${m.gateway}/pets/abc`);
    expect(invalid.status).toBe(422);
    expect(invalid.headers.get('content-type')).toBe('application/problem+json');
    expect(await invalid.json()).toMatchObject({
      validation: [{ location: ['path', 'id'], severity: 'Error', code: 'type' }],
    });
    const xml = await fetch(`${m.gateway}/pets`, { headers: { accept: 'application/xml' } });
    expect([xml.status, xml.headers.get('content-type'), await xml.text()]).toEqual([
      200,
      'application/xml',
      '<pets/>',
    ]);
    const anonymous = await fetch(`${m.gateway}/secure`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toContain('Key realm="meshdev"');
    const head = await fetch(`${m.gateway}/pets/7`, { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe('39');
    // The mesh's contract check saw the same request violation the mock answered.
    for (let i = 0; i < 200 && m.calls.length < 5; i++) await new Promise((r) => setTimeout(r, 10));
    const invalidCall = m.calls.find((call) => call.path === '/pets/abc')!;
    expect(invalidCall.status).toBe(422);
    expect(invalidCall.violations!.map((v) => v.location.join('.'))).toContain('request.path.id');
  });
});
