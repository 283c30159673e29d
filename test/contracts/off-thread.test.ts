/**
 * Response bodies checked in a worker thread (`contracts: report`): the worker finds what
 * the serving thread would, body for body, in batches; a worker that dies or cannot start
 * loses nothing (the bodies are checked here); a full ring checks here instead of
 * growing; and the call record of a served call waits for its body's check.
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPLY_HEADER, scripted } from '../../fixtures/servers/upstreams.js';
import { declaredResponse } from '../../src/contracts/check-response.js';
import { loadContract, type Contract } from '../../src/contracts/contract.js';
import type { MediaSpec } from '../../src/contracts/operations.js';
import {
  BATCH_BODIES,
  inlineBodyChecks,
  MAX_CONTENT_TYPES,
  offThreadBodyChecks,
  OffThreadBodyChecks,
} from '../../src/contracts/off-thread-checks.js';
import type { Violation } from '../../src/contracts/violation.js';
import type { CallRecord } from '../../src/telemetry/call-record.js';
import { spawnCli } from '../helpers/process.js';
import { testScope } from '../helpers/scope.js';

const scope = testScope();
const ORDERS = path.resolve('fixtures/contracts/orders.openapi.yaml');

/** The JSON media of `GET /orders/{id}` → 200. */
async function orderBody(): Promise<{ contract: Contract; media: MediaSpec }> {
  const contract = await loadContract(ORDERS);
  const match = contract.index.match('GET', '/orders/1');
  if (match.kind !== 'operation') throw new Error('no operation');
  const media = declaredResponse(match.operation, 200)!.content[0]!;
  return { contract, media };
}

/** Bodies of every kind: valid, wrong types, missing fields, not JSON, empty. */
function bodies(count: number): Buffer[] {
  const kinds = [
    (i: number) => ({ id: i + 1, item: 'book', quantity: 2 }),
    (i: number) => ({ id: `n${i}`, item: 'book', quantity: 2 }),
    (i: number) => ({ id: i + 1, quantity: -i }),
    () => '{"id": 1, "item": ',
    () => '',
  ];
  return Array.from({ length: count }, (_, i) => {
    const value = kinds[i % kinds.length]!(i);
    return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
  });
}

/** Checks every body with `checker`, resolving with each body's violations in order. */
function checkAll(
  checker: { check: typeof inlineBodyChecks.check },
  contract: Contract,
  media: MediaSpec,
  all: Buffer[],
): Promise<Violation[][]> {
  return Promise.all(
    all.map(
      (body) =>
        new Promise<Violation[]>((resolve) =>
          checker.check(contract, media, 'application/json', body, resolve),
        ),
    ),
  );
}

function closeAfter(checks: OffThreadBodyChecks): OffThreadBodyChecks {
  scope.defer(() => checks.close());
  return checks;
}

describe('contract bodies checked in a worker thread', () => {
  it('finds exactly what the serving thread finds, body for body, over several batches', async () => {
    const { contract, media } = await orderBody();
    const all = bodies(BATCH_BODIES * 2 + 7);
    const here = await checkAll(inlineBodyChecks, contract, media, all);
    const checks = closeAfter(new OffThreadBodyChecks());
    const there = await checkAll(checks, contract, media, all);
    expect(checks.failure).toBeUndefined();
    expect(checks.checkedInWorker).toBe(all.length - all.filter((b) => b.length === 0).length);
    expect(there).toEqual(here);
    // The kinds of bodies really differ: valid, schema errors, invalid JSON.
    expect(here[0]).toEqual([]);
    expect(here[1]!.map((v) => v.location.join('.'))).toEqual(['response.body.id']);
    expect(here[3]![0]!.code).toBe('invalid-json');
    expect(checks.waiting).toBe(0);
  });

  it('checks bodies on this thread when the worker cannot start, and says why', async () => {
    const { contract, media } = await orderBody();
    const missing = new URL('file:///nonexistent/meshdev-body-check-worker.js');
    const checks = closeAfter(new OffThreadBodyChecks({ workerUrl: missing }));
    const all = bodies(12);
    const there = await checkAll(checks, contract, media, all);
    expect(there).toEqual(await checkAll(inlineBodyChecks, contract, media, all));
    expect(checks.failure).toMatch(/contract worker (failed|exited)/);
    expect(checks.checkedInWorker).toBe(0);
  });

  it('checks the bodies a dying worker held on this thread, then every later one', async () => {
    const { contract, media } = await orderBody();
    const dir = mkdtempSync(path.join(tmpdir(), 'meshdev-worker-'));
    const dying = path.join(dir, 'dying-worker.mjs');
    // Takes the first message it is sent, then exits without answering.
    writeFileSync(
      dying,
      "import { parentPort } from 'node:worker_threads';\nparentPort.once('message', () => setTimeout(() => process.exit(3), 20));\n",
    );
    const checks = closeAfter(new OffThreadBodyChecks({ workerUrl: new URL(`file://${dying}`) }));
    const all = bodies(30);
    const expected = await checkAll(inlineBodyChecks, contract, media, all);
    expect(await checkAll(checks, contract, media, all)).toEqual(expected);
    expect(checks.failure).toBe('the contract worker exited (3)');
    expect(await checkAll(checks, contract, media, all.slice(0, 5))).toEqual(expected.slice(0, 5));
  });

  it('checks here when the ring is full instead of holding more', async () => {
    const { contract, media } = await orderBody();
    const body = Buffer.from(JSON.stringify({ id: 'x', item: 'y'.repeat(900), quantity: 1 }));
    // Room for two bodies of ~930 bytes: the third of a batch is checked here.
    const checks = closeAfter(new OffThreadBodyChecks({ ringBytes: 2 * body.length + 10 }));
    const all = [body, body, body, body];
    const there = await checkAll(checks, contract, media, all);
    const [expected] = await checkAll(inlineBodyChecks, contract, media, [body]);
    expect(there).toEqual(all.map(() => expected));
    expect(checks.checkedInWorker).toBe(2);
    expect(checks.checkedHere).toBe(2);
    // Answered regions are given back: the next batch goes to the worker again.
    await checkAll(checks, contract, media, [body, body]);
    expect(checks.checkedInWorker).toBe(4);
  });

  it('checks here, not in ever-growing tables, when every answer has a new content type', async () => {
    const { contract, media } = await orderBody();
    const checks = closeAfter(new OffThreadBodyChecks());
    const body = Buffer.from(JSON.stringify({ id: 'x', item: 'book', quantity: 1 }));
    const types = Array.from(
      { length: MAX_CONTENT_TYPES + 4 },
      (_, i) => `application/json; boundary=b${i}`,
    );
    const found = await Promise.all(
      types.map(
        (type) =>
          new Promise<Violation[]>((resolve) => checks.check(contract, media, type, body, resolve)),
      ),
    );
    expect(found.map((v) => v.map((one) => one.location.join('.')))).toEqual(
      types.map(() => ['response.body.id']),
    );
    expect(checks.checkedInWorker).toBe(MAX_CONTENT_TYPES);
    expect(checks.checkedHere).toBe(4);
  });

  it("a served call's record carries its body's violations, found by the worker", async () => {
    const upstream = await scope.server(scripted());
    const m = await scope.mesh(
      `version: 1
mesh: { name: offthread, mtls: off, admin: { port: 0 }, ports: { from: 0 }, contracts: report }
gateway: { port: 0, routes: [{ path: /, service: orders }] }
services:
  orders: { port: "\${P}", spec: ${ORDERS} }
`,
      { P: String(upstream.port) },
    );
    const before = offThreadBodyChecks().checkedInWorker;
    const reply = { body: { id: 'seven', item: 'book', quantity: 0 } };
    const response = await fetch(`${m.gateway}/orders/7`, {
      headers: { [REPLY_HEADER]: JSON.stringify(reply) },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(reply.body);
    const call: CallRecord = await new Promise((resolve) => {
      if (m.calls.length > 0) return resolve(m.calls[0]!);
      const off = m.mesh.bus.on('call', (record) => {
        off();
        resolve(record);
      });
    });
    expect(call.violations!.map((v) => `${v.location.join('.')} ${v.code}`)).toEqual([
      'response.body.id type',
      'response.body.quantity minimum',
    ]);
    expect(call.flags).toContain('CV');
    expect(offThreadBodyChecks().checkedInWorker).toBe(before + 1);
    expect(offThreadBodyChecks().failure).toBeUndefined();
  });

  it('`meshdev up` (the bundle) checks bodies in its worker: the call line and /v1/contracts say so', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'meshdev-worker-up-'));
    for (const file of ['orders.openapi.yaml', 'schemas.yaml'])
      cpSync(path.resolve('fixtures/contracts', file), path.join(dir, file));
    writeFileSync(
      path.join(dir, 'mesh.config.yaml'),
      `version: 1
mesh: { name: worker-up, mtls: off, ports: { from: 0 }, admin: { port: 0 } }
gateway: { port: 0, routes: [{ path: /orders, service: orders }] }
services:
  orders:
    spec: ./orders.openapi.yaml
    sim: { routes: [{ path: /orders/2, body: { id: two, item: book, quantity: 0 } }] }
`,
    );
    const cli = scope.running(spawnCli(['up', '--json'], { cwd: dir }));
    const ready = JSON.parse(await cli.waitForLine(/"event":"ready"/, 30_000)) as {
      admin: number;
      listeners: Array<{ kind: string; port: number }>;
    };
    const gateway = ready.listeners.find((l) => l.kind === 'gateway')!.port;
    const response = await fetch(`http://127.0.0.1:${gateway}/orders/2`);
    expect(await response.json()).toEqual({ id: 'two', item: 'book', quantity: 0 });
    const line = JSON.parse(await cli.waitForLine(/"path":"\/orders\/2"/, 30_000)) as CallRecord;
    expect(line.violations!.map((v) => v.location.join('.'))).toEqual([
      'response.body.id',
      'response.body.quantity',
    ]);
    const contracts = (await (
      await fetch(`http://127.0.0.1:${ready.admin}/v1/contracts`)
    ).json()) as { bodyChecks: { worker: string; checkedInWorker: number; checkedHere: number } };
    expect(contracts.bodyChecks).toEqual({
      worker: 'running',
      checkedInWorker: 1,
      checkedHere: 0,
      waiting: 0,
    });
    cli.child.kill('SIGTERM');
    expect(await cli.exit).toBe(0);
  });
});
