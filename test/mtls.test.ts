import v8 from 'node:v8';
import vm from 'node:vm';
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Pool } from 'undici';
import { echo } from '../fixtures/servers/upstreams.js';
import { createCa, issueLeaf } from '../src/dataplane/pki/certificates.js';
import { type TestMesh } from './helpers/mesh.js';
import { testScope } from './helpers/scope.js';
import { MeshMetrics } from '../src/telemetry/metrics.js';
import { HOP_IDLE_MS, INBOUND_KEEP_ALIVE_MS } from '../src/dataplane/keep-alive.js';

const run = promisify(execFile);
const scope = testScope();
const server = scope.server;
const mesh = scope.mesh;
/** The inbound listener of `service`, as the mesh describes it. */
const inbound = (m: TestMesh, service: string) =>
  m.mesh.listenerInfo().find((l) => l.kind === 'inbound' && l.service === service)!;
const inboundPort = (m: TestMesh, service: string) => inbound(m, service).port;

/** The TLS handshakes, full and resumed, that the inbound listener of `service` made. */
function handshakeCount(m: TestMesh, service: string): number {
  const { full, resumed } = inbound(m, service).handshakes!;
  return full + resumed;
}

/** Opens a TLS connection to `port`; resolves 'refused' when the server rejects it. */
function handshake(port: number, options: tls.ConnectionOptions): Promise<'accepted' | 'refused'> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      rejectUnauthorized: false,
      ...options,
    });
    socket.on('secureConnect', () => {
      // TLS 1.3 reports a rejected client certificate only after the handshake: ask something.
      socket.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    });
    socket.on('data', () => {
      socket.destroy();
      resolve('accepted');
    });
    socket.on('error', () => resolve('refused'));
    socket.on('close', () => resolve('refused'));
  });
}

const twoServices = (extra = '') => `version: 1
mesh: { name: sec, certTTL: 1h, ports: { from: 0 }, admin: { port: 0 } }
gateway: { port: 0, routes: [{ path: /, service: payments }] }
services:
  orders: { port: 1, upstreams: [payments] }
  payments:
    port: "\${P}"
${extra}`;

describe('mTLS (strict, the default)', () => {
  it('calls between services go over mutual TLS, and the app sees who called', async () => {
    const payments = await server(echo('payments'));
    const m = await mesh(twoServices(), { P: String(payments.port) });
    const body = (await (await fetch(`${m.outbound('orders', 'payments')}/charges`)).json()) as {
      headers: Record<string, string>;
    };
    expect(body.headers['x-forwarded-client-cert']).toMatch(
      /^By=spiffe:\/\/meshdev\.local\/ns\/default\/sa\/payments;Hash=[0-9a-f]{64};URI=spiffe:\/\/meshdev\.local\/ns\/default\/sa\/orders$/,
    );
    expect(body.headers['x-meshdev-caller']).toBeUndefined();
    expect(m.calls[0]).toMatchObject({
      caller: 'orders',
      service: 'payments',
      status: 200,
      security: 'mutual_tls',
    });
  });

  it('refuses a plaintext connection and a TLS one without a client certificate, saying why', async () => {
    const payments = await server(echo('payments'));
    const m = await mesh(twoServices(), { P: String(payments.port) });
    const warnings: string[] = [];
    m.mesh.bus.on('warning', (w) => warnings.push(w.message));
    const port = inboundPort(m, 'payments');
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
    expect(await handshake(port, {})).toBe('refused');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(warnings).toContain(
      'plaintext connection refused: mtls is strict (use the outbound listener, or set mesh.mtls: permissive)',
    );
    expect(
      warnings.some(
        (w) => w.includes('without a client certificate') || w.includes('TLS handshake failed'),
      ),
    ).toBe(true);
    expect(payments.requests).toBe(0);
  });

  it('refuses a certificate from another CA and an expired one', async () => {
    const payments = await server(echo('payments'));
    const m = await mesh(twoServices(), { P: String(payments.port) });
    const port = inboundPort(m, 'payments');
    const meshCa = readFileSync(path.join(m.stateDir, 'ca', 'ca.crt'), 'utf8');
    const meshCaKey = readFileSync(path.join(m.stateDir, 'ca', 'ca.key'), 'utf8');
    const id = 'spiffe://meshdev.local/ns/default/sa/orders';

    const valid = await issueLeaf(
      { cert: meshCa, key: meshCaKey },
      { commonName: 'orders', uris: [id], ttlMs: 3_600_000 },
    );
    expect(await handshake(port, { cert: valid.cert, key: valid.key, ca: meshCa })).toBe(
      'accepted',
    );

    const foreignCa = await createCa('elsewhere');
    const foreign = await issueLeaf(foreignCa, {
      commonName: 'orders',
      uris: [id],
      ttlMs: 3_600_000,
    });
    expect(await handshake(port, { cert: foreign.cert, key: foreign.key })).toBe('refused');

    const expired = await issueLeaf(
      { cert: meshCa, key: meshCaKey },
      { commonName: 'orders', uris: [id], ttlMs: 1000, now: Date.now() - 7_200_000 },
    );
    expect(await handshake(port, { cert: expired.cert, key: expired.key })).toBe('refused');
  });

  it('an outbound hop refuses a server with the wrong SPIFFE ID (502 UF)', async () => {
    const payments = await server(echo('payments'));
    const m = await mesh(twoServices(), { P: String(payments.port) });
    // Misdirect payments to the inbound listener of orders: its certificate says sa/orders.
    m.mesh.runtime.setTarget('payments', 'default', inboundPort(m, 'orders'));
    const response = await fetch(`${m.outbound('orders', 'payments')}/charges`);
    expect(response.status).toBe(502);
    const body = (await response.json()) as { message: string; flags: string[] };
    expect(body.message).toContain(
      'server identity mismatch: expected spiffe://meshdev.local/ns/default/sa/payments, got spiffe://meshdev.local/ns/default/sa/orders',
    );
    expect(body.flags).toEqual(['UF']);
  });

  it('CA directory is 0700 and keys are 0600; the CA is reused on the next start', async () => {
    const payments = await server(echo('payments'));
    const first = await mesh(twoServices(), { P: String(payments.port) });
    expect(statSync(path.join(first.stateDir, 'ca')).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(first.stateDir, 'ca', 'ca.key')).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(first.stateDir, 'certs', 'payments.key')).mode & 0o777).toBe(0o600);
    const ca = readFileSync(path.join(first.stateDir, 'ca', 'ca.crt'), 'utf8');
    const { Pki } = await import('../src/dataplane/pki/pki.js');
    const again = await Pki.open(first.mesh.config.mesh, first.stateDir);
    expect(again.ca.cert).toBe(ca);
  });

  it('openssl s_client sees the chain and the SPIFFE SAN of an inbound listener', async (context) => {
    const openssl = await run('sh', ['-c', 'command -v openssl']).catch(() => undefined);
    if (!openssl?.stdout.trim()) return context.skip();
    const payments = await server(echo('payments'));
    const m = await mesh(twoServices(), { P: String(payments.port) });
    const certs = path.join(m.stateDir, 'certs');
    const { stdout } = await run('sh', [
      '-c',
      `echo | openssl s_client -connect 127.0.0.1:${inboundPort(m, 'payments')} -CAfile ${m.stateDir}/ca/ca.crt -cert ${certs}/orders.crt -key ${certs}/orders.key -showcerts 2>/dev/null | openssl x509 -noout -text`,
    ]);
    expect(stdout).toContain('URI:spiffe://meshdev.local/ns/default/sa/payments');
    expect(stdout).toContain('Issuer: CN = meshdev local CA (sec)');
    expect(stdout).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication/);
  });

  it('rotates certificates with certTTL 4s under continuous load without a failed call', async () => {
    const payments = await server(echo('payments'));
    const m = await mesh(twoServices().replace('certTTL: 1h', 'certTTL: 4s'), {
      P: String(payments.port),
    });
    const serial = () => m.mesh.pki!.identity('payments').cert;
    const firstCert = serial();
    const pool = new Pool(m.outbound('orders', 'payments'), { connections: 4 });
    let ok = 0;
    let failed = 0;
    const until = Date.now() + 5000;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (Date.now() < until) {
          const response = await pool.request({ method: 'GET', path: '/x' });
          await response.body.dump();
          if (response.statusCode === 200) ok++;
          else failed++;
        }
      }),
    );
    await pool.close();
    expect(serial()).not.toBe(firstCert);
    expect(m.mesh.pki!.generation).toBeGreaterThanOrEqual(3);
    expect(failed).toBe(0);
    expect(ok).toBeGreaterThan(100);
  }, 15_000);
});

describe('authorization', () => {
  it('denies a caller that is not allowed: 403 UAEX naming the principal and the config line', async () => {
    const payments = await server(echo('payments'));
    const m = await mesh(twoServices('    allow: [gateway]\n'), { P: String(payments.port) });
    const denied = await fetch(`${m.outbound('orders', 'payments')}/charges`);
    expect(denied.status).toBe(403);
    const body = (await denied.json()) as { error: string; message: string; flags: string[] };
    expect(body.error).toBe('unauthorized');
    expect(body.message).toBe(
      'orders is not allowed to call payments: add orders to services.payments.allow (test.mesh.config.yaml:8)',
    );
    expect(m.calls[0]!.flags).toContain('UAEX');
    expect(payments.requests).toBe(0);
    expect((await fetch(`${m.gateway}/charges`)).status).toBe(200);
  });

  it('L7 rules allow by method and path (exact, prefix*, *suffix)', async () => {
    const payments = await server(echo('payments'));
    const m = await mesh(
      twoServices(
        '    allow: [{ from: orders, methods: [POST], paths: ["/charges*", "*/status"] }]\n',
      ),
      { P: String(payments.port) },
    );
    const call = (method: string, path: string) =>
      fetch(`${m.outbound('orders', 'payments')}${path}`, { method }).then((r) => r.status);
    expect(await call('POST', '/charges/1')).toBe(200);
    expect(await call('POST', '/x/status')).toBe(200);
    expect(await call('GET', '/charges/1')).toBe(403);
    expect(await call('POST', '/refunds')).toBe(403);
  });

  it('with mtls off the same rules hold on the direct hop', async () => {
    const payments = await server(echo('payments'));
    const m = await mesh(
      twoServices('    allow: [gateway]\n').replace('certTTL: 1h', 'mtls: off'),
      { P: String(payments.port) },
    );
    expect((await fetch(`${m.outbound('orders', 'payments')}/charges`)).status).toBe(403);
    expect((await fetch(`${m.gateway}/charges`)).status).toBe(200);
  });
});

describe('mtls: permissive', () => {
  it('accepts plaintext and TLS on the same port; a plaintext caller is unauthenticated, whatever it claims', async () => {
    const payments = await server(echo('payments'));
    const m = await mesh(twoServices().replace('certTTL: 1h', 'mtls: permissive'), {
      P: String(payments.port),
    });
    const warnings: string[] = [];
    m.mesh.bus.on('warning', (w) => warnings.push(w.message));
    const port = inboundPort(m, 'payments');
    const spoofed = await fetch(`http://127.0.0.1:${port}/direct`, {
      headers: { 'x-meshdev-caller': 'orders', 'x-forwarded-client-cert': 'URI=spiffe://evil' },
    });
    expect(spoofed.status).toBe(403);
    expect(spoofed.headers.get('x-meshdev-error')).toBe('unauthorized');
    expect(((await spoofed.json()) as { message: string }).message).toContain(
      'an unauthenticated caller is not allowed to call payments',
    );
    expect(warnings).toContain(
      'plaintext call to payments accepted (mtls: permissive): the caller is unauthenticated',
    );
    const viaMesh = await fetch(`${m.outbound('orders', 'payments')}/tls`);
    expect(viaMesh.status).toBe(200);
    expect(m.calls.at(-1)!.security).toBe('mutual_tls');
  });

  it('lets an unauthenticated plaintext caller in only where allow admits anyone ("*")', async () => {
    const payments = await server(echo('payments'));
    const m = await mesh(
      twoServices('    allow: ["*"]').replace('certTTL: 1h', 'mtls: permissive'),
      { P: String(payments.port) },
    );
    const plain = await fetch(`http://127.0.0.1:${inboundPort(m, 'payments')}/direct`, {
      headers: { 'x-meshdev-caller': 'orders', 'x-forwarded-client-cert': 'URI=spiffe://evil' },
    });
    expect(plain.status).toBe(200);
    const seen = ((await plain.json()) as { headers: Record<string, string> }).headers;
    expect(seen['x-forwarded-client-cert']).toBeUndefined();
    expect(seen['x-meshdev-caller']).toBeUndefined();
  });
});

/** V8's full garbage collection, without starting the process with --expose-gc. */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

describe('mTLS connections between listeners', () => {
  it('are reused under keep-alive load, and resume their TLS sessions after idling', async () => {
    const payments = await server(echo('payments'));
    // Hop pools that let idle connections go after 1 s (30 s by default), so the test
    // sees connections made again after a pause without waiting that long.
    const m = await mesh(twoServices(), { P: String(payments.port) }, { hopIdleMs: 1_000 });
    const client = new Pool(m.outbound('orders', 'payments'), { connections: 8 });
    const burst = async () => {
      const statuses = await Promise.all(
        Array.from({ length: 200 }, async () => {
          const response = await client.request({ path: '/', method: 'GET' });
          await response.body.dump();
          return response.statusCode;
        }),
      );
      return new Set(statuses);
    };
    const handshakes = () => ({ ...inbound(m, 'payments').handshakes! });
    try {
      expect(await burst()).toEqual(new Set([200]));
      const first = handshakes();
      // At most one connection per concurrent request (8), not one per request (200).
      expect(first.full + first.resumed).toBeGreaterThan(0);
      expect(first.full + first.resumed).toBeLessThanOrEqual(8);
      expect(await burst()).toEqual(new Set([200]));
      expect(handshakes()).toEqual(first);
      // Idle past the hop pool's keep-alive window: the next connections are new, and
      // resume a cached TLS session — even after garbage collections (undici holds
      // sessions through WeakRefs; the hop pool keeps its own).
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      for (let i = 0; i < 3; i++) collectGarbage();
      expect(await burst()).toEqual(new Set([200]));
      const after = handshakes();
      expect(after.full).toBe(first.full);
      expect(after.resumed).toBeGreaterThan(first.resumed);
      // The same counts on /metrics.
      const metrics = new MeshMetrics(
        m.mesh.bus,
        () => m.mesh.runtime,
        () => m.mesh.listenerInfo(),
      );
      expect(await metrics.registry.metrics()).toContain(
        `meshdev_tls_handshakes_total{listener="inbound payments@default",session="resumed"} ${after.resumed}`,
      );
    } finally {
      await client.close();
    }
  });

  it('cost no handshake after calls were cut while connected ones are idle', async () => {
    // An app that holds each answer until the test lets it go: calls are at once for sure.
    const held: Array<import('node:http').ServerResponse> = [];
    let cutSeen = 0;
    const payments = await server((_req, res) => {
      held.push(res);
      res.on('close', () => {
        if (!res.writableEnded) cutSeen++;
      });
    });
    const m = await mesh(twoServices(), { P: String(payments.port) });
    const client = new Pool(m.outbound('orders', 'payments'), { connections: 16 });
    const until = async (done: () => boolean) => {
      for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
      expect(done()).toBe(true);
    };
    /** `count` calls at once, answered once all reached the app. */
    const together = async (count: number) => {
      const calls = Array.from({ length: count }, async () => {
        const response = await client.request({ path: '/', method: 'GET' });
        await response.body.dump();
        return response.statusCode;
      });
      await until(() => held.length === count);
      for (const res of held.splice(0)) res.end('ok');
      expect(new Set(await Promise.all(calls))).toEqual(new Set([200]));
      // A hop connection is free again one turn of the event loop after its answer.
      await new Promise((r) => setTimeout(r, 50));
    };
    const handshakes = () => handshakeCount(m, 'payments');
    try {
      await together(8);
      expect(handshakes()).toBe(8);
      // Two callers leave mid-call: the mesh cancels their hops, closing two connections.
      const leaving = [new AbortController(), new AbortController()];
      const cut = leaving.map((controller) =>
        client.request({ path: '/', method: 'GET', signal: controller.signal }).catch(() => 'cut'),
      );
      await until(() => held.length === 2);
      for (const controller of leaving) controller.abort();
      expect(await Promise.all(cut)).toEqual(['cut', 'cut']);
      await until(() => cutSeen === 2);
      held.splice(0);
      // Six at once: the six connections left carry them. (With undici's own Pool the two
      // cut clients connected again at once, for calls that were gone — undici#5845: two
      // more handshakes.)
      await together(6);
      expect(handshakes()).toBe(8);
      // Eight at once: two connections more, each a handshake.
      await together(8);
      expect(handshakes()).toBe(10);
    } finally {
      await client.close();
    }
  });

  it('outlive a pause in traffic: no new handshake after 6 s idle with the default pools', async () => {
    const payments = await server(echo('payments'));
    const m = await mesh(twoServices(), { P: String(payments.port) });
    const client = new Pool(m.outbound('orders', 'payments'), { connections: 4 });
    const burst = async () => {
      for (let i = 0; i < 40; i++) {
        const response = await client.request({ path: '/', method: 'GET' });
        expect(response.statusCode).toBe(200);
        await response.body.dump();
      }
    };
    const handshakes = () => handshakeCount(m, 'payments');
    try {
      await burst();
      const first = handshakes();
      expect(first).toBeGreaterThan(0);
      // Longer than Node's default server keep-alive (5 s), which closed them before.
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      await burst();
      expect(handshakes()).toBe(first);
      // What the inbound listener tells its callers, asked over mTLS with the caller's own
      // certificate: it keeps an idle connection longer than the hop pools (an hour,
      // Envoy's default) keep one, so the caller side always lets go first.
      const certs = path.join(m.stateDir, 'certs');
      const direct = new Pool(`https://127.0.0.1:${inboundPort(m, 'payments')}`, {
        connect: {
          ca: readFileSync(path.join(m.stateDir, 'ca', 'ca.crt'), 'utf8'),
          cert: readFileSync(path.join(certs, 'orders.crt'), 'utf8'),
          key: readFileSync(path.join(certs, 'orders.key'), 'utf8'),
          servername: 'localhost',
        },
      });
      try {
        const answer = await direct.request({ path: '/', method: 'GET' });
        await answer.body.dump();
        expect(answer.statusCode).toBe(200);
        const advertised = /timeout=(\d+)/.exec(String(answer.headers['keep-alive']))?.[1];
        expect(Number(advertised) * 1000).toBe(INBOUND_KEEP_ALIVE_MS);
        expect(INBOUND_KEEP_ALIVE_MS).toBeGreaterThan(HOP_IDLE_MS);
        expect(HOP_IDLE_MS).toBeGreaterThanOrEqual(3_600_000);
      } finally {
        await direct.close();
      }
    } finally {
      await client.close();
    }
  });
});
