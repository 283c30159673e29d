import { cpSync, readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../src/config/load.js';
import { startServer } from '../fixtures/servers/upstreams.js';
import { startLoad, dueCount } from '../src/sim/load.js';
import { type TestMesh } from './helpers/mesh.js';
import { testScope } from './helpers/scope.js';
import { spawnCli } from './helpers/process.js';

const MESH = 'version: 1\nmesh: { name: sim, seed: 3, ports: { from: 0 }, admin: { port: 0 } }\n';
const scope = testScope();
const mesh = (yaml: string, env: Record<string, string> = {}): Promise<TestMesh> =>
  scope.mesh(MESH + yaml, env);

describe('simulated services', () => {
  it('answer templated bodies by method and path template, and 404 JSON otherwise', async () => {
    const m = await mesh(`gateway: { port: 0, routes: [{ path: /, service: items }] }
services:
  items:
    sim:
      routes:
        - { method: GET, path: /items/:id, body: { id: "{{params.id}}", q: "{{query.q}}" }, headers: { x-sim: yes } }
        - { method: POST, path: /items, status: 201, body: { name: "{{body.name}}" } }
`);
    const get = await fetch(`${m.gateway}/items/7?q=blue`);
    expect(get.status).toBe(200);
    expect(get.headers.get('x-sim')).toBe('yes');
    expect(await get.json()).toEqual({ id: '7', q: 'blue' });
    const post = await fetch(`${m.gateway}/items`, {
      method: 'POST',
      body: JSON.stringify({ name: 'bolt' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(post.status).toBe(201);
    expect(await post.json()).toEqual({ name: 'bolt' });
    const missing = await fetch(`${m.gateway}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'not_found', service: 'items' });
  });

  it('fails at its error rate (seeded): 10% of 1,000 within 2.5 points', async () => {
    const m = await mesh(`gateway: { port: 0, routes: [{ path: /, service: flaky }] }
services:
  flaky:
    sim:
      errors: { status: 500, percent: 10 }
      routes: [{ method: GET, path: /x }]
`);
    let errors = 0;
    for (let i = 0; i < 1000; i++) if ((await fetch(`${m.gateway}/x`)).status === 500) errors++;
    expect(Math.abs(errors / 10 - 10)).toBeLessThanOrEqual(2.5);
  });

  it('calls upstreams through its own outbound listener: a faulted upstream fails the route with 502, or is ignored', async () => {
    const m = await mesh(`gateway: { port: 0, routes: [{ path: /, service: front }] }
services:
  front:
    upstreams: [back]
    sim:
      routes:
        - { method: GET, path: /strict, calls: [{ service: back, path: /work }] }
        - { method: GET, path: /lenient, body: { ok: true }, calls: [{ service: back, path: /work, onError: ignore }] }
        - { method: GET, path: /teapot, calls: [{ service: back, path: /work, onError: 418 }] }
  back:
    sim: { routes: [{ method: GET, path: /work }] }
    faults: [{ abort: 503 }]
`);
    const strict = await fetch(`${m.gateway}/strict`, {
      headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    });
    expect(strict.status).toBe(502);
    expect(await strict.json()).toMatchObject({ error: 'upstream_failed', upstream: 'back' });
    expect((await fetch(`${m.gateway}/lenient`)).status).toBe(200);
    expect((await fetch(`${m.gateway}/teapot`)).status).toBe(418);
    const hop = m.calls.find((c) => c.caller === 'front' && c.service === 'back')!;
    expect(hop).toMatchObject({ status: 503, flags: ['FI'] });
    // The simulated service forwarded the trace context of the call it served.
    expect(hop.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('simulates versions differently: a slower, flakier canary', async () => {
    const m = await mesh(`gateway: { port: 0, routes: [{ path: /, service: pay }] }
services:
  pay:
    versions:
      v1: { sim: { routes: [{ method: GET, path: /, body: { v: 1 } }] } }
      v2: { sim: { errors: { status: 503, percent: 100 }, routes: [{ method: GET, path: /, latency: 50ms }] } }
    routes: [{ split: { v1: 50, v2: 50 } }]
`);
    const results = await Promise.all(
      Array.from({ length: 40 }, () => fetch(`${m.gateway}/`).then((r) => r.status)),
    );
    expect(results.filter((s) => s === 200).length).toBeGreaterThan(5);
    expect(results.filter((s) => s === 503).length).toBeGreaterThan(5);
    const v2 = m.calls.filter((c) => c.version === 'v2');
    expect(v2.every((c) => c.status === 503 && c.durationMs >= 50)).toBe(true);
  });
});

describe('header propagation and call templates', () => {
  it("forwards Istio's trace headers and mesh.propagate, so a header route deeper in the graph sees end-user", async () => {
    const seen: Array<{ version: string; url: string; headers: Record<string, unknown> }> = [];
    const reviews = (version: string) =>
      scope.server((req, res) => {
        seen.push({ version, url: req.url ?? '', headers: req.headers });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    const [v1, v2] = [await reviews('v1'), await reviews('v2')];
    const m = await scope.mesh(
      `version: 1
mesh: { name: bookinfo, ports: { from: 0 }, admin: { port: 0 }, propagate: [end-user] }
gateway: { port: 0, routes: [{ path: /, service: productpage }] }
services:
  productpage:
    upstreams: [reviews]
    sim:
      routes:
        - path: /productpage/:id
          calls:
            - service: reviews
              path: "/reviews/{{params.id}}?mode={{query.mode}}"
              headers: { x-asked-by: "user {{headers.End-User}}" }
  reviews:
    versions: { v1: { port: ${v1.port} }, v2: { port: ${v2.port} } }
    routes:
      - { match: { headers: { end-user: jason } }, to: v2 }
      - { to: v1 }
`,
    );
    const ask = (user?: string) =>
      fetch(`${m.gateway}/productpage/a%20b?mode=full`, {
        headers: {
          ...(user && { 'end-user': user }),
          cookie: 'session=secret',
          'x-b3-traceid': '80f198ee56343ba864fe8b2a57d3eff7',
          'x-b3-sampled': '1',
        },
      });
    expect((await ask('jason')).status).toBe(200);
    expect((await ask('kim')).status).toBe(200);
    expect((await ask()).status).toBe(200);
    expect(seen.map((call) => call.version)).toEqual(['v2', 'v1', 'v1']);
    const [jason, , nobody] = seen;
    expect(jason!.url).toBe('/reviews/a%20b?mode=full');
    expect(jason!.headers).toMatchObject({
      'end-user': 'jason',
      'x-asked-by': 'user jason',
      'x-b3-traceid': '80f198ee56343ba864fe8b2a57d3eff7',
      'x-b3-sampled': '1',
      'x-request-id': expect.any(String),
      traceparent: expect.stringMatching(/^00-[\da-f]{32}-/),
    });
    // Not on the list: never forwarded by the simulated service.
    expect(jason!.headers.cookie).toBeUndefined();
    expect(nobody!.headers['end-user']).toBeUndefined();
    expect(nobody!.headers['x-asked-by']).toBe('user'); // HTTP trims the trailing space
  });

  it('sim.propagate replaces mesh.propagate for that instance (the trace headers stay)', async () => {
    const seen: Array<Record<string, unknown>> = [];
    const back = await scope.server((req, res) => {
      seen.push(req.headers);
      res.writeHead(200).end();
    });
    const m = await scope.mesh(
      `version: 1
mesh: { name: own, ports: { from: 0 }, admin: { port: 0 }, propagate: [end-user] }
gateway: { port: 0, routes: [{ path: /, service: front }] }
services:
  front:
    upstreams: [back]
    sim: { propagate: [x-tenant-*], routes: [{ path: /, calls: [{ service: back, path: / }] }] }
  back: { port: ${back.port} }
`,
    );
    await fetch(`${m.gateway}/`, {
      headers: { 'end-user': 'jason', 'x-tenant-id': 't1', 'x-request-id': 'req-1' },
    });
    expect(seen[0]).toMatchObject({ 'x-tenant-id': 't1', 'x-request-id': 'req-1' });
    expect(seen[0]!['end-user']).toBeUndefined();
  });
});

describe('simulated services that compose and defend', () => {
  it("use their calls' answers in the reply, fall back when one fails, and retry on their own timeout", async () => {
    let ratingsCalls = 0;
    // Ratings never answers in time: the page's own client gives up after 200 ms, twice.
    const ratings = await scope.server((req) => {
      ratingsCalls++;
      req.resume();
    });
    const m = await scope.mesh(`version: 1
mesh: { name: compose, ports: { from: 0 }, admin: { port: 0 } }
gateway: { port: 0, routes: [{ path: /, service: page }] }
services:
  page:
    upstreams: [reviews, ratings]
    sim:
      routes:
        - path: /product/:id
          calls:
            - { service: reviews, path: "/reviews/{{params.id}}" }
            - service: ratings
              name: stars
              path: /ratings
              timeout: 200ms
              retries: 1
              fallback: { text: ratings unavailable }
          body:
            id: "{{params.id}}"
            reviews: "{{calls.reviews.body.text}}"
            reviewsStatus: "{{calls.reviews.status}}"
            ratings: "{{calls.stars.body.text}}"
            ratingsError: "{{calls.stars.error}}"
            ratingsAttempts: "{{calls.stars.attempts}}"
  reviews:
    sim: { routes: [{ path: /reviews/:id, body: { text: "great book {{params.id}}" } }] }
  ratings: { port: ${ratings.port} }
`);
    const response = await fetch(`${m.gateway}/product/7`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      id: '7',
      reviews: 'great book 7',
      reviewsStatus: 200,
      ratings: 'ratings unavailable',
      ratingsError: 'timed out after 200ms',
      ratingsAttempts: 2,
    });
    expect(ratingsCalls).toBe(2);
  });

  it('answer onError {status, body} when a call fails, and make parallel calls at once', async () => {
    // Answers only once two requests wait at the same time (else 503 after 3 s): only
    // calls made in parallel get 200s.
    const waiting: Array<import('node:http').ServerResponse> = [];
    const pair = await scope.server((req, res) => {
      req.resume();
      waiting.push(res);
      if (waiting.length === 2) for (const r of waiting.splice(0)) r.writeHead(200).end('{}');
      else
        setTimeout(() => {
          if (waiting.includes(res)) {
            waiting.splice(waiting.indexOf(res), 1);
            res.writeHead(503).end();
          }
        }, 3_000);
    });
    const m = await scope.mesh(`version: 1
mesh: { name: defend, ports: { from: 0 }, admin: { port: 0 } }
gateway: { port: 0, routes: [{ path: /, service: page }] }
services:
  page:
    upstreams: [a]
    sim:
      routes:
        - path: /together
          parallel: true
          calls: [{ service: a, name: one, path: /one }, { service: a, name: two, path: /two }]
        - path: /apart
          calls:
            - service: a
              name: one
              path: /one
              onError: { status: 503, body: { page: "sorry, {{calls.one.error}}" } }
            - { service: a, name: two, path: /two }
  a: { port: ${pair.port} }
`);
    expect((await fetch(`${m.gateway}/together`)).status).toBe(200);
    const apart = await fetch(`${m.gateway}/apart`);
    expect(apart.status).toBe(503);
    expect(await apart.json()).toEqual({ page: 'sorry, status 503' });
  });
});

describe('load generator', () => {
  it('computes the open-loop schedule with a linear ramp', () => {
    expect(dueCount({ rps: 10 }, 1000)).toBe(10);
    expect(dueCount({ rps: 10, rampMs: 2000 }, 2000)).toBe(10); // half of 2 s at full rate
    expect(dueCount({ rps: 10, rampMs: 2000 }, 3000)).toBe(20);
  });

  it('holds its rate within 5% over 5 s', async () => {
    const target = await startServer((_req, res) => res.end('ok'));
    scope.defer(() => target.close());
    const load = startLoad(
      { name: 'steady', method: 'GET', path: '/', rps: 100, durationMs: 5000 },
      { target: `http://127.0.0.1:${target.port}`, token: 't' },
    );
    await load.done;
    await load.stop();
    expect(Math.abs(target.requests / 500 - 1)).toBeLessThanOrEqual(0.05);
    expect(load.stats.failed).toBe(0);
  }, 15_000);

  it('shows as the caller `load` and runs closed-loop with concurrency', async () => {
    let inFlight = 0;
    let most = 0;
    const api = await scope.server((_req, res) => {
      inFlight++;
      most = Math.max(most, inFlight);
      setTimeout(() => {
        inFlight--;
        res.end('ok');
      }, 20);
    });
    const m = await mesh(
      `gateway: { port: 0, routes: [{ path: /, service: api }] }
services:
  api: { port: "\${P}" }
`,
      { P: String(api.port) },
    );
    const load = startLoad(
      { name: 'c', method: 'GET', path: '/', concurrency: 4, durationMs: 300 },
      { target: m.gateway, token: m.mesh.loadToken },
    );
    await load.done;
    await load.stop();
    // Closed loop: never more than 4 at once, and each worker went round more than once.
    expect(most).toBeLessThanOrEqual(4);
    expect(load.stats.completed).toBeGreaterThanOrEqual(8);
    expect(m.calls.every((c) => c.caller === 'load')).toBe(true);
    // Without the token, the same request is an ordinary gateway call.
    await fetch(`${m.gateway}/`, { headers: { 'x-meshdev-load': 'guess' } });
    expect(m.calls.at(-1)!.caller).toBe('gateway');
  });
});

describe('the bundled demo', () => {
  it('validates', () => {
    const config = loadConfigFile('mesh.config.yaml', { env: {} });
    expect(config.services.map((s) => s.name)).toEqual([
      'frontend',
      'orders',
      'payments',
      'inventory',
    ]);
    expect(config.load.reduce((sum, l) => sum + (l.rps ?? 0), 0)).toBe(20);
  });

  it('`meshdev up --no-ui --json` yields calls across at least three hops within 5 s', async () => {
    // The demo itself, on free ports so parallel runs cannot clash.
    const dir = mkdtempSync(path.join(tmpdir(), 'meshdev-demo-'));
    const demo = readFileSync('mesh.config.yaml', 'utf8')
      .replace('port: 8080', 'port: 0')
      .replace('admin: { port: 15000 }', 'admin: { port: 0 }')
      .replace('ports: { from: 15100 }', 'ports: { from: 0 }')
      .replace('./schema/', path.resolve('schema') + '/');
    writeFileSync(path.join(dir, 'mesh.config.yaml'), demo);
    cpSync('specs', path.join(dir, 'specs'), { recursive: true });
    const cli = spawnCli(['up', '--no-ui', '--json'], { cwd: dir });
    scope.defer(async () => {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
      await cli.exit;
    });
    await cli.waitForLine(/"event":"ready"/);
    const started = Date.now();
    const hops = new Set<string>();
    while (hops.size < 4 && Date.now() - started < 5000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (const line of cli.lines) {
        if (!line.includes('"event":"call"')) continue;
        const call = JSON.parse(line) as { caller: string; service: string };
        hops.add(`${call.caller}→${call.service}`);
      }
    }
    expect(hops).toContain('load→frontend');
    expect(hops).toContain('frontend→orders');
    expect([...hops].some((hop) => hop === 'orders→payments' || hop === 'orders→inventory')).toBe(
      true,
    );
    cli.child.kill('SIGINT');
    expect(await cli.exit).toBe(0);
  });
});
