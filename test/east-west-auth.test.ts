/**
 * A service as an API product (`services.<name>.auth`): another service's calls must carry
 * a consumer's key, checked on the callee's inbound side — with mTLS (strict) and without
 * (off: the hop goes through the inbound listener anyway). The call record names both the
 * calling service (`caller`) and the consumer.
 */
import { describe, expect, it } from 'vitest';
import { echo } from '../fixtures/servers/upstreams.js';
import { loadConfigText } from '../src/config/load.js';
import type { CallRecord } from '../src/telemetry/call-record.js';
import { testScope } from './helpers/scope.js';

const scope = testScope();

const config = (mtls: string) => `version: 1
mesh: { name: ew, mtls: ${mtls}, certTTL: 1h, admin: { port: 0 }, ports: { from: 0 } }
consumers:
  alice: { keys: ["alice-key-0001"] }
  bob: { keys: ["bob-key-00001"] }
services:
  orders: { port: 1, upstreams: [payments] }
  payments:
    port: "\${P}"
    auth: { require: apiKey, consumers: [alice] }
`;

async function recorded(calls: CallRecord[], count: number): Promise<CallRecord[]> {
  for (let i = 0; i < 300 && calls.length < count; i++) await new Promise((r) => setTimeout(r, 10));
  return calls;
}

describe.each(['strict', 'off'])('east–west auth (mtls %s)', (mtls) => {
  it('refuses calls without a key (401) or from a consumer not on the list (403), passes alice', async () => {
    const payments = await scope.server(echo('payments'));
    const m = await scope.mesh(config(mtls), { P: String(payments.port) });
    const url = `${m.outbound('orders', 'payments')}/charges`;
    const none = await fetch(url);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Key realm="meshdev", header="x-api-key"');
    expect(((await none.json()) as { service: string }).service).toBe('payments');
    const bob = await fetch(url, { headers: { 'x-api-key': 'bob-key-00001' } });
    expect(bob.status).toBe(403);
    const alice = await fetch(url, { headers: { 'x-api-key': 'alice-key-0001' } });
    expect(alice.status).toBe(200);
    const seen = (await alice.json()) as { headers: Record<string, string> };
    expect(seen.headers['x-consumer-id']).toBe('alice');
    expect(seen.headers['x-api-key']).toBeUndefined();
    expect(alice.headers.get('x-meshdev-consumer')).toBeNull();
    expect(payments.requests).toBe(1);
    const calls = await recorded(m.calls, 3);
    expect(calls.map((c) => [c.caller, c.consumer ?? null, c.status, c.flags])).toEqual([
      ['orders', null, 401, ['UAEX']],
      ['orders', 'bob', 403, ['UAEX']],
      ['orders', 'alice', 200, []],
    ]);
  });

  it('`auth` added by a reload applies to the next call, and removed, stops applying', async () => {
    const payments = await scope.server(echo('payments'));
    const env = { P: String(payments.port) };
    const open = config(mtls).replace(/\n {4}auth: .*\n/, '\n');
    const m = await scope.mesh(open, env);
    const url = `${m.outbound('orders', 'payments')}/charges`;
    expect((await fetch(url)).status).toBe(200);
    await m.mesh.reconcile(loadConfigText(config(mtls), 'test.mesh.config.yaml', { env }));
    expect((await fetch(url)).status).toBe(401);
    const alice = await fetch(url, { headers: { 'x-api-key': 'alice-key-0001' } });
    expect(alice.status).toBe(200);
    await m.mesh.reconcile(loadConfigText(open, 'test.mesh.config.yaml', { env }));
    expect((await fetch(url)).status).toBe(200);
    const calls = await recorded(m.calls, 4);
    expect(calls.map((c) => [c.status, c.consumer ?? null])).toEqual([
      [200, null],
      [401, null],
      [200, 'alice'],
      [200, null],
    ]);
  });
});
