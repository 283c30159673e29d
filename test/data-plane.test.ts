import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { Pool } from 'undici';
import { deadPort, echo, type TestServer } from '../fixtures/servers/upstreams.js';
import { type TestMesh } from './helpers/mesh.js';
import { rawExchange } from './helpers/raw-http.js';
import { testScope } from './helpers/scope.js';

const MESH = 'version: 1\nmesh: { name: t, seed: 7, ports: { from: 0 }, admin: { port: 0 } }\n';
const scope = testScope();

const server = scope.server;
const mesh = (yaml: string, env: Record<string, string>): Promise<TestMesh> =>
  scope.mesh(MESH + yaml, env);

/** A mesh whose gateway fronts one service `api` on `upstream`'s port, with extra settings. */
function gatewayTo(upstream: TestServer, settings = ''): Promise<TestMesh> {
  const api = `api: { port: "\${P}"${settings ? `, ${settings}` : ''} }`;
  return mesh(`gateway: { port: 0, routes: [{ path: /, service: api }] }\nservices:\n  ${api}\n`, {
    P: String(upstream.port),
  });
}

/** Sends `count` GETs with `concurrency` in flight; returns the responses' status and server. */
async function burst(url: string, count: number, concurrency = 16) {
  const { origin, pathname } = new URL(url);
  const pool = new Pool(origin, { connections: concurrency });
  const results: Array<{ status: number; servedBy: string; error?: string }> = [];
  let sent = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < count) {
        sent++;
        const response = await pool.request({ method: 'GET', path: pathname });
        await response.body.text();
        results.push({
          status: response.statusCode,
          servedBy: String(response.headers['x-served-by'] ?? ''),
          error: String(response.headers['x-meshdev-error'] ?? ''),
        });
      }
    }),
  );
  await pool.close();
  return results;
}

describe('traffic split', () => {
  it('sends 90/10 within ±2.5 points over 4,000 seeded requests', async () => {
    const v1 = await server(echo('v1'));
    const v2 = await server(echo('v2'));
    const m = await mesh(
      `services:
  caller: { port: 1, upstreams: [payments] }
  payments:
    versions: { v1: { port: "\${V1}" }, v2: { port: "\${V2}" } }
    routes:
      - match: { headers: { x-canary: "1" } }
        to: v2
      - split: { v1: 90, v2: 10 }
`,
      { V1: String(v1.port), V2: String(v2.port) },
    );
    const results = await burst(`${m.outbound('caller', 'payments')}/pay`, 4000);
    const share = (results.filter((r) => r.servedBy === 'v2').length / results.length) * 100;
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(Math.abs(share - 10)).toBeLessThanOrEqual(2.5);
    const canary = await fetch(`${m.outbound('caller', 'payments')}/pay`, {
      headers: { 'x-canary': '1' },
    });
    expect(canary.headers.get('x-served-by')).toBe('v2');
    expect(m.calls.filter((c) => c.caller === 'caller' && c.service === 'payments').length).toBe(
      4001,
    );
  });
});

describe('fault injection', () => {
  it('aborts 20% with the configured status within ±2 points, flagged FI', async () => {
    const api = await server(echo('api'));
    const m = await gatewayTo(api, `faults: [{ abort: { status: 503, percent: 20 } }]`);
    const results = await burst(`${m.gateway}/x`, 2000);
    const aborted = results.filter((r) => r.status === 503 && r.error === 'fault_abort').length;
    expect(Math.abs(aborted / 20 - 20)).toBeLessThanOrEqual(2);
    expect(results.filter((r) => r.status !== 200 && r.status !== 503)).toEqual([]);
    expect(m.calls.filter((c) => c.flags.includes('FI')).length).toBe(aborted);
  });

  it('a delay adds at least its duration, flagged DI', async () => {
    const api = await server(echo('api'));
    const m = await gatewayTo(api, `faults: [{ delay: 300ms }]`);
    const started = performance.now();
    const response = await fetch(`${m.gateway}/slow`);
    expect(response.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    expect(response.headers.get('x-meshdev-flags')).toBe('DI');
  });

  it('answers any abort status with a JSON body naming the service', async () => {
    const api = await server(echo('api'));
    const m = await gatewayTo(api, `faults: [{ abort: 418 }]`);
    const response = await fetch(`${m.gateway}/tea`);
    expect(response.status).toBe(418);
    expect(await response.json()).toMatchObject({
      error: 'fault_abort',
      service: 'api',
      flags: ['FI'],
    });
    expect(api.requests).toBe(0);
  });

  it('a reset fault resets the client connection (ECONNRESET)', async () => {
    const api = await server(echo('api'));
    const m = await gatewayTo(api, `faults: [{ reset: true }]`);
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => {
      const req = request(`${m.gateway}/boom`, (res) => res.resume());
      req.on('error', resolve);
      req.end();
    });
    expect(error.code).toBe('ECONNRESET');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(m.calls[0]).toMatchObject({ status: 0, flags: ['FR'] });
  });

  it('runtime faults apply to the next request and can be removed', async () => {
    const api = await server(echo('api'));
    const m = await gatewayTo(api);
    const fault = m.mesh.runtime.addFault({ service: 'api', abort: { status: 503, percent: 100 } });
    expect((await fetch(`${m.gateway}/a`)).status).toBe(503);
    m.mesh.runtime.removeFault(fault.id);
    expect((await fetch(`${m.gateway}/a`)).status).toBe(200);
  });
});

describe('mtls: off', () => {
  it('calls the instance directly, without the loopback hop through its inbound listener', async () => {
    const api = await server(echo('api'));
    const started = await scope.mesh(
      `version: 1
mesh: { name: t, mtls: off, ports: { from: 0 }, admin: { port: 0 } }
gateway: { port: 0, routes: [{ path: /, service: api }] }
services:
  api: { port: "\${P}" }
`,
      { P: String(api.port) },
    );
    expect(started.mesh.runtime.state()[0]!.targets).toEqual({ default: api.port });
    const body = (await (await fetch(`${started.gateway}/x`)).json()) as {
      headers: Record<string, string>;
    };
    expect(body.headers['x-meshdev-caller']).toBeUndefined();
    expect(started.calls[0]).toMatchObject({ caller: 'gateway', service: 'api', status: 200 });
  });
});

describe('runtime API', () => {
  it('setFaults and setSplit change the next request and leave the one in flight alone', async () => {
    const v1 = await server((req, res) => {
      setTimeout(
        () => res.writeHead(200, { 'x-served-by': 'v1' }).end(),
        req.url === '/slow' ? 300 : 0,
      );
    });
    const v2 = await server(echo('v2'));
    const m = await mesh(
      `gateway: { port: 0, routes: [{ path: /, service: pay }] }
services:
  pay:
    versions: { v1: { port: "\${V1}" }, v2: { port: "\${V2}" } }
    routes: [{ split: { v1: 100, v2: 0 } }]
`,
      { V1: String(v1.port), V2: String(v2.port) },
    );
    const inFlight = fetch(`${m.gateway}/slow`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    m.mesh.runtime.setFaults('pay', [{ abort: { status: 503, percent: 100 } }]);
    expect((await fetch(`${m.gateway}/x`)).status).toBe(503);
    const slow = await inFlight;
    expect(slow.status).toBe(200);
    expect(slow.headers.get('x-served-by')).toBe('v1');
    m.mesh.runtime.setFaults('pay', []);
    m.mesh.runtime.setSplit('pay', { v1: 0, v2: 100 });
    expect((await fetch(`${m.gateway}/x`)).headers.get('x-served-by')).toBe('v2');
    expect(m.mesh.runtime.state()[0]!.split).toEqual({
      weights: { v1: 0, v2: 100 },
      source: 'runtime',
    });
    expect(() => m.mesh.runtime.setSplit('pay', { v1: 50, v2: 40 })).toThrow(
      'split weights sum to 90, not 100',
    );
  });
});

describe('retries, timeouts and the circuit breaker', () => {
  it('an upstream failing twice then succeeding answers 200 after 3 attempts', async () => {
    let calls = 0;
    const flaky = await server((_req, res) => {
      calls++;
      res.writeHead(calls <= 2 ? 503 : 200).end(calls <= 2 ? 'down' : 'up');
    });
    const m = await gatewayTo(flaky, `retries: { attempts: 2 }`);
    const response = await fetch(`${m.gateway}/x`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('up');
    expect(response.headers.get('x-meshdev-attempts')).toBe('3');
    expect(m.calls[0]).toMatchObject({ status: 200, attempts: 3, flags: [] });
  });

  it('retries a 503 twice, then answers 503 flagged URX', async () => {
    const down = await server((_req, res) => res.writeHead(503).end('down'));
    const m = await gatewayTo(down, `retries: { attempts: 2 }`);
    const response = await fetch(`${m.gateway}/x`);
    expect(response.status).toBe(503);
    expect(response.headers.get('x-meshdev-flags')).toBe('URX');
    expect(down.requests).toBe(3);
  });

  it('retries an injected abort exactly like a real one', async () => {
    const api = await server(echo('api'));
    const m = await gatewayTo(
      api,
      `retries: { attempts: 3 }, faults: [{ abort: { status: 503, percent: 50 } }]`,
    );
    const results = await burst(`${m.gateway}/x`, 200, 8);
    // P(four aborts in a row) = 1/16: far fewer failures than the 50% injected.
    const failed = results.filter((r) => r.status !== 200).length;
    expect(failed).toBeLessThan(30);
    expect(m.calls.some((c) => c.attempts > 1 && c.flags.includes('FI'))).toBe(true);
  });

  it('a timeout answers 504 UT after the timeout, not before', async () => {
    const hang = await server(() => {});
    const m = await gatewayTo(hang, `timeout: 200ms`);
    const started = performance.now();
    const response = await fetch(`${m.gateway}/x`);
    const elapsed = performance.now() - started;
    expect(response.status).toBe(504);
    expect(await response.json()).toMatchObject({ error: 'upstream_timeout', flags: ['UT'] });
    expect(elapsed).toBeGreaterThanOrEqual(195);
    // The upstream never answers: only the 200 ms timeout ends the call (bound: 10× that).
    expect(elapsed).toBeLessThan(2_000);
  });

  it('the breaker opens after consecutive errors, answers UO, and recovers', async () => {
    let healthy = false;
    const api = await server((_req, res) => res.writeHead(healthy ? 200 : 500).end());
    const m = await gatewayTo(api, `circuitBreaker: { consecutiveErrors: 3, openFor: 300ms }`);
    for (let i = 0; i < 3; i++) expect((await fetch(`${m.gateway}/x`)).status).toBe(500);
    const refused = await fetch(`${m.gateway}/x`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('x-meshdev-error')).toBe('circuit_open');
    expect(api.requests).toBe(3);
    expect(m.mesh.runtime.state()[0]!.breakers).toEqual({ default: 'open' });
    healthy = true;
    await new Promise((resolve) => setTimeout(resolve, 320));
    expect((await fetch(`${m.gateway}/x`)).status).toBe(200);
    expect(m.mesh.runtime.state()[0]!.breakers).toEqual({ default: 'closed' });
  });

  it('a dead upstream answers 502 JSON naming the port, and the mesh keeps serving', async () => {
    const port = await deadPort();
    const live = await server(echo('live'));
    const m = await mesh(
      `gateway: { port: 0, routes: [{ path: /dead, service: dead }, { path: /live, service: live }] }
services:
  dead: { port: "\${DEAD}" }
  live: { port: "\${LIVE}" }
`,
      { DEAD: String(port), LIVE: String(live.port) },
    );
    const response = await fetch(`${m.gateway}/dead`);
    expect(response.status).toBe(502);
    expect(response.headers.get('x-meshdev-error')).toBe('upstream_unreachable');
    const body = (await response.json()) as { message: string; service: string; flags: string[] };
    expect(body.service).toBe('dead');
    expect(body.message).toContain(`127.0.0.1:${port}`);
    expect(body.message).toContain('is the service running?');
    expect(m.calls[0]!.flags).toContain('UF');
    expect((await fetch(`${m.gateway}/live`)).status).toBe(200);
  });

  it('no matching route answers 404 NR', async () => {
    const api = await server(echo('api'));
    const m = await mesh(
      `gateway: { port: 0, routes: [{ path: /api, service: api, stripPrefix: true }] }
services:
  api:
    versions: { v1: { port: "\${P}" } }
    routes: [{ match: { path: /only }, to: v1 }]
`,
      { P: String(api.port) },
    );
    expect((await fetch(`${m.gateway}/api/only`)).status).toBe(200);
    const missing = await fetch(`${m.gateway}/api/other`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'no_route', flags: ['NR'] });
    expect((await fetch(`${m.gateway}/elsewhere`)).status).toBe(404);
  });
});

describe('per-route policy', () => {
  it("a route's timeout, retries and faults override the service's; the call record names the route", async () => {
    let slowCalls = 0;
    const api = await server((req, res) => {
      if (req.url!.startsWith('/slow')) {
        slowCalls++;
        // Answers after 2 s: the route's 200 ms timeout fires first, each attempt.
        setTimeout(() => res.writeHead(200).end('late'), 2_000).unref();
        return;
      }
      res.writeHead(200).end('ok');
    });
    const m = await mesh(
      `gateway: { port: 0, routes: [{ path: /, service: api }] }
services:
  api:
    versions: { v1: { port: "\${A}" } }
    timeout: 10s
    faults: [{ abort: { status: 500, percent: 100 } }]
    routes:
      - name: slow
        match: { path: /slow }
        to: v1
        timeout: 300ms
        faults: []
      - name: retried
        match: { path: /slow-retried }
        to: v1
        retries: { attempts: 2, perTryTimeout: 200ms, retryOn: [gateway-error] }
        faults: []
      - name: calm
        match: { path: /calm }
        to: v1
        faults: []
      - match: { path: /flaky }
        to: v1
        faults: [{ abort: { status: 503, percent: 100 } }]
      - { to: v1 }
`,
      { A: String(api.port) },
    );
    // The route's 300 ms, not the service's 10 s: a 504 rather than the answer at 2 s.
    const slow = await fetch(`${m.gateway}/slow`);
    expect(slow.status).toBe(504);
    expect(slow.headers.get('x-meshdev-attempts')).toBe('1');
    // The route's retries (the service has none): three attempts of 200 ms each.
    const retried = await fetch(`${m.gateway}/slow-retried`);
    expect(retried.status).toBe(504);
    expect(retried.headers.get('x-meshdev-attempts')).toBe('3');
    expect(slowCalls).toBe(4);
    // `faults: []` on the route: the service's file fault does not apply there…
    expect((await fetch(`${m.gateway}/calm`)).status).toBe(200);
    // …a route's own faults do, in its place…
    expect((await fetch(`${m.gateway}/flaky`)).status).toBe(503);
    // …and elsewhere the service's fault still applies.
    expect((await fetch(`${m.gateway}/other`)).status).toBe(500);
    // A runtime fault applies on every route, its own faults or not.
    m.mesh.runtime.addFault({ service: 'api', abort: { status: 418, percent: 100 } });
    expect((await fetch(`${m.gateway}/calm`)).status).toBe(418);
    expect(m.calls.map((call) => [call.routeRule, call.status])).toEqual([
      ['slow', 504],
      ['retried', 504],
      ['calm', 200],
      ['#3', 503],
      ['#4', 500],
      ['calm', 418],
    ]);
  });
});

describe('HTTP correctness', () => {
  it('drops hop-by-hop headers, adds x-forwarded-*, creates and forwards trace context', async () => {
    const api = await server(echo('api'));
    const m = await mesh(
      `gateway: { port: 0, routes: [{ path: /api, service: api, stripPrefix: true }] }
services:
  api: { port: "\${P}" }
`,
      { P: String(api.port) },
    );
    const body = await new Promise<{ url: string; headers: Record<string, string> }>(
      (resolve, reject) => {
        const req = request(`${m.gateway}/api/items?x=1`, {
          headers: {
            'x-drop-me': '1',
            connection: 'keep-alive, x-drop-me',
            'x-meshdev-caller': 'spoofed',
          },
        });
        req.on('response', (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve(JSON.parse(text)));
        });
        req.on('error', reject);
        req.end();
      },
    );
    expect(body.url).toBe('/items?x=1');
    expect(body.headers['x-drop-me']).toBeUndefined();
    expect(body.headers['x-meshdev-caller']).toBeUndefined();
    expect(body.headers['x-forwarded-proto']).toBe('http');
    expect(body.headers['x-forwarded-for']).toContain('127.0.0.1');
    expect(body.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(body.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(m.calls[0]!.traceId).toBe(body.headers.traceparent!.split('-')[1]);

    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const kept = (await (
      await fetch(`${m.gateway}/api/x`, { headers: { traceparent, 'x-request-id': 'req-1' } })
    ).json()) as {
      headers: Record<string, string>;
    };
    expect(kept.headers.traceparent).toBe(traceparent);
    expect(kept.headers['x-request-id']).toBe('req-1');
  });

  it('HEAD, 204 and 304 behave as without the mesh', async () => {
    const api = await server((req, res) => {
      if (req.url === '/empty') return res.writeHead(204).end();
      if (req.url === '/cached') return res.writeHead(304, { etag: '"v1"' }).end();
      res
        .writeHead(200, { 'content-type': 'text/plain', 'content-length': '5' })
        .end(req.method === 'HEAD' ? undefined : 'hello');
    });
    const m = await gatewayTo(api);
    const head = await fetch(`${m.gateway}/x`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('5');
    expect(await head.text()).toBe('');
    expect((await fetch(`${m.gateway}/empty`)).status).toBe(204);
    const cached = await fetch(`${m.gateway}/cached`);
    expect(cached.status).toBe(304);
    expect(cached.headers.get('etag')).toBe('"v1"');
  });

  it('answers Expect: 100-continue and forwards the body', async () => {
    const api = await server(echo('api'));
    const m = await gatewayTo(api);
    const { port } = new URL(m.gateway);
    const result = await new Promise<{ continued: boolean; body: string }>((resolve, reject) => {
      let continued = false;
      const req = request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/up',
        headers: { expect: '100-continue', 'content-length': '4' },
      });
      req.on('continue', () => {
        continued = true;
        req.end('data');
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ continued, body }));
      });
      req.on('error', reject);
    });
    expect(result.continued).toBe(true);
    expect(JSON.parse(result.body)).toMatchObject({ method: 'POST', bodyBytes: 4 });
  });

  it('Upgrade: h2c (what curl --http2 sends) is served as HTTP/1.1: a body, then keep-alive', async () => {
    const api = await server(echo('api'));
    const m = await gatewayTo(api);
    // curl 7.88's own request, byte for byte, then a second request on the same connection.
    const [first, second, ...rest] = await rawExchange(
      Number(new URL(m.gateway).port),
      'POST /form HTTP/1.1\r\nHost: shop\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n' +
        'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n' +
        'HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\nContent-Length: 5\r\n' +
        'Content-Type: application/x-www-form-urlencoded\r\n\r\nhello' +
        'GET /next HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n\r\n',
    );
    expect(first!.status).toBe(200);
    const seen = JSON.parse(first!.body) as {
      method: string;
      url: string;
      bodyBytes: number;
      headers: Record<string, string>;
    };
    expect(seen).toMatchObject({ method: 'POST', url: '/form', bodyBytes: 5 });
    expect(seen.headers.upgrade).toBeUndefined();
    expect(seen.headers['http2-settings']).toBeUndefined();
    expect(second!.status).toBe(200);
    expect(JSON.parse(second!.body)).toMatchObject({ method: 'GET', url: '/next' });
    expect(rest).toEqual([]);
    expect(m.calls.map((call) => `${call.method} ${call.path} ${call.status}`)).toEqual([
      'POST /form 200',
      'GET /next 200',
    ]);
  });

  it('keeps client connections alive across requests', async () => {
    const api = await server(echo('api'));
    const m = await gatewayTo(api);
    const pool = new Pool(m.gateway, { connections: 1 });
    const ports = new Set<number>();
    pool.on('connect', () => ports.add(ports.size));
    for (let i = 0; i < 5; i++)
      await (await pool.request({ method: 'GET', path: '/' })).body.text();
    expect(ports.size).toBe(1);
    await pool.close();
  });
});
