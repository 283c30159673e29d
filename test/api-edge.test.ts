/**
 * The API edge end to end: a real client through the gateway to a real upstream that
 * echoes what it received. Credentials (API keys in a header or the query, JWTs from the
 * development issuer or a JWKS file), route requirements, Kong's consumer headers, rate
 * limits with their headers, quotas that survive a restart, and CORS.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import type { IncomingMessage } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import { deadPort, echo } from '../fixtures/servers/upstreams.js';
import { loadLocalIssuer } from '../src/edge/local-issuer.js';
import { localAudience } from '../src/edge/api-edge.js';
import { startMesh } from './helpers/mesh.js';
import { MeshController } from '../src/controlplane/controller.js';
import { loadConfigFile } from '../src/config/load.js';
import { testScope } from './helpers/scope.js';

const scope = testScope();

const config = (extra = '') => `version: 1
mesh: { name: edge, mtls: off, admin: { port: 0 }, ports: { from: 0 } }
gateway:
  port: 0
  auth: { require: any, apiKeys: { header: x-api-key, query: apikey }, jwt: { local: true${extra} } }
  cors: { origins: ["http://localhost:5173", "https://*.example.com"] }
  routes:
    - { path: /public, service: api, auth: { require: none } }
    - { path: /admin, service: api, auth: { scopes: [admin] } }
    - { path: /bob-only, service: api, auth: { consumers: [bob] } }
    - { path: /beta, service: api, auth: { groups: [beta] } }
    - { path: /search, service: api, rateLimit: { requests: 1, per: 1m } }
    - { path: /, service: api }
consumers:
  alice: { plan: free, keys: ["alice-key-0001", "alice-key-0002"], groups: [beta] }
  bob: { plan: gold, keys: ["bob-key-00001"] }
plans:
  free: { rateLimit: { requests: 3, per: 1m } }
  gold: { quota: { requests: 3, per: 1d } }
  anonymous: { rateLimit: { requests: 2, per: 1h } }
services:
  api: { port: "\${P}" }
`;

interface Echoed {
  url: string;
  headers: Record<string, string>;
}

async function get(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers });
  const text = await response.text();
  return { response, text, json: () => JSON.parse(text) as Echoed & { message: string } };
}

async function meshWithEcho(extra = '', stateDir?: string) {
  const upstream = await scope.server(echo('api'));
  const m = stateDir
    ? await startMesh(config(extra), { P: String(upstream.port) }, { stateDir })
    : await scope.mesh(config(extra), { P: String(upstream.port) });
  return { m, upstream };
}

/** The test config in a file of its own, run by a controller that reloads on request. */
async function reloadableMesh() {
  const upstream = await scope.server(echo('api'));
  const dir = mkdtempSync(path.join(tmpdir(), 'meshdev-edge-reload-'));
  const file = path.join(dir, 'mesh.config.yaml');
  const text = config().replace('"${P}"', String(upstream.port));
  writeFileSync(file, text);
  const controller = await MeshController.start(loadConfigFile(file), {
    ephemeralPorts: true,
    watch: false,
    stateDir: path.join(dir, '.meshdev'),
  });
  scope.defer(() => controller.stop(0));
  return { file, text, controller, gateway: `http://127.0.0.1:${controller.mesh.gatewayPort()}` };
}

describe('API keys', () => {
  it('a valid key passes as its consumer: Kong headers set, the key stripped, spoofed copies gone', async () => {
    const { m } = await meshWithEcho();
    const { response, json } = await get(`${m.gateway}/orders`, {
      'x-api-key': 'alice-key-0002',
      'x-consumer-id': 'mallory',
      'x-credential-identifier': 'forged',
    });
    expect(response.status).toBe(200);
    const seen = json().headers;
    expect(seen['x-consumer-id']).toBe('alice');
    expect(seen['x-consumer-username']).toBe('alice');
    expect(seen['x-credential-identifier']).toBe('alice-key-2');
    expect(seen['x-consumer-groups']).toBe('beta');
    expect(seen['x-api-key']).toBeUndefined();
    await until(() => m.calls.length === 1);
    expect(m.calls[0]!.consumer).toBe('alice');
  });

  it('takes the key from the query too, and removes it from the forwarded URL', async () => {
    const { m } = await meshWithEcho();
    const { response, json } = await get(`${m.gateway}/orders?apikey=bob-key-00001&page=2`);
    expect(response.status).toBe(200);
    expect(json().url).toBe('/orders?page=2');
    expect(json().headers['x-consumer-id']).toBe('bob');
  });

  it('a missing or wrong key is a 401 with WWW-Authenticate; a public route needs none', async () => {
    const { m, upstream } = await meshWithEcho();
    const missing = await get(`${m.gateway}/orders`);
    expect(missing.response.status).toBe(401);
    expect(missing.response.headers.get('www-authenticate')).toBe(
      'Key realm="meshdev", header="x-api-key", Bearer realm="meshdev"',
    );
    expect(missing.json().message).toBe(
      'this route needs an API key in x-api-key or ?apikey= or a JWT in Authorization: Bearer',
    );
    const wrong = await get(`${m.gateway}/orders`, { 'x-api-key': 'alice-key-0003' });
    expect(wrong.response.status).toBe(401);
    expect(wrong.json().message).toMatch(/^the API key is not valid/);
    expect(upstream.requests).toBe(0);
    const open = await get(`${m.gateway}/public/x`, { 'x-consumer-username': 'spoofed' });
    expect(open.response.status).toBe(200);
    expect(open.json().headers['x-consumer-username']).toBeUndefined();
    await until(() => m.calls.length === 3);
    expect(m.calls.map((c) => c.flags)).toEqual([['UAEX'], ['UAEX'], []]);
  });

  it("a public route passes credentials it does not know untouched (they may be the service's own)", async () => {
    const { m } = await meshWithEcho();
    const { response, json } = await get(`${m.gateway}/public/x`, {
      'x-api-key': 'upstream-own-key',
      authorization: 'Bearer not-a-mesh-token',
    });
    expect(response.status).toBe(200);
    expect(json().headers['x-api-key']).toBe('upstream-own-key');
    expect(json().headers.authorization).toBe('Bearer not-a-mesh-token');
    expect(json().headers['x-consumer-id']).toBeUndefined();
  });

  it('an access list (consumers or groups) refuses others with 403', async () => {
    const { m } = await meshWithEcho();
    expect(
      (await get(`${m.gateway}/bob-only`, { 'x-api-key': 'bob-key-00001' })).response.status,
    ).toBe(200);
    const refused = await get(`${m.gateway}/bob-only`, { 'x-api-key': 'alice-key-0001' });
    expect(refused.response.status).toBe(403);
    expect(refused.json().message).toBe('consumer alice may not call /bob-only (allowed: bob)');
    // Kong's ACL: by group.
    expect(
      (await get(`${m.gateway}/beta`, { 'x-api-key': 'alice-key-0001' })).response.status,
    ).toBe(200);
    const outside = await get(`${m.gateway}/beta`, { 'x-api-key': 'bob-key-00001' });
    expect(outside.response.status).toBe(403);
    expect(outside.json().message).toBe(
      'consumer bob is in none of the groups beta that may call /beta',
    );
  });
});

describe('JWT', () => {
  it('the development issuer: meshdev token is accepted, scopes are enforced, the token is stripped', async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'meshdev-jwt-'));
    const { m } = await meshWithEcho('', stateDir);
    scope.defer(() => m.stop());
    const issuer = await loadLocalIssuer(stateDir, 'edge');
    const audience = localAudience({ mesh: { name: 'edge' } } as never);
    const plain = await issuer.sign({ subject: 'alice', audience, ttlSeconds: 60 });
    const admin = await issuer.sign({
      subject: 'bob',
      audience,
      scopes: ['admin'],
      ttlSeconds: 60,
    });
    const ok = await get(`${m.gateway}/orders`, { authorization: `Bearer ${plain}` });
    expect(ok.response.status).toBe(200);
    expect(ok.json().headers['x-consumer-id']).toBe('alice');
    expect(ok.json().headers.authorization).toBeUndefined();
    expect(ok.json().headers['x-credential-identifier']).toBe('urn:meshdev:edge');
    const noScope = await get(`${m.gateway}/admin/x`, { authorization: `Bearer ${plain}` });
    expect(noScope.response.status).toBe(403);
    expect(noScope.json().message).toBe('/admin requires the scope admin');
    expect(
      (await get(`${m.gateway}/admin/x`, { authorization: `Bearer ${admin}` })).response.status,
    ).toBe(200);

    // Signed with the issuer's own key, an hour ago, for a minute: expired beyond the 30 s skew.
    const stored = JSON.parse(
      readFileSync(path.join(stateDir, 'jwt', 'signing-key.json'), 'utf8'),
    ) as {
      kid: string;
      privateJwk: JWK;
    };
    const hourAgo = Math.floor(Date.now() / 1000) - 3600;
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: stored.kid })
      .setIssuer(issuer.issuer)
      .setAudience(audience)
      .setSubject('alice')
      .setIssuedAt(hourAgo)
      .setExpirationTime(hourAgo + 60)
      .sign(await importJWK(stored.privateJwk, 'ES256'));
    const wrongAudience = await issuer.sign({
      subject: 'alice',
      audience: 'someone-else',
      ttlSeconds: 60,
    });
    const unknown = await issuer.sign({ subject: 'mallory', audience, ttlSeconds: 60 });
    const [header, payload] = plain.split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...decode(payload!), sub: 'bob' })).toString('base64url')}.${plain.split('.')[2]}`;
    const cases: Array<[string, string]> = [
      [expired, 'the token has expired'],
      [wrongAudience, "the token's aud claim is not accepted"],
      [unknown, "the token's sub claim names no consumer"],
      [none, 'the token is signed with an algorithm that is not allowed'],
      [tampered, 'the token signature is invalid'],
    ];
    for (const [token, reason] of cases) {
      const refused = await get(`${m.gateway}/orders`, { authorization: `Bearer ${token}` });
      expect(refused.response.status, reason).toBe(401);
      expect(refused.json().message, reason).toContain(reason);
      expect(refused.response.headers.get('www-authenticate'), reason).toContain(
        'error="invalid_token"',
      );
    }
  });

  it('a JWKS file: a token with an unknown kid is accepted once the file holds its key', async () => {
    const first = await keyPair('k1');
    const { m, jwks } = await meshWithJwksFile([first.publicJwk]);
    const sign = signForShop;
    expect(
      (await get(`${m.gateway}/orders`, { authorization: `Bearer ${await sign(first)}` })).response
        .status,
    ).toBe(200);
    const second = await keyPair('k2');
    const rotated = await sign(second);
    const before = await get(`${m.gateway}/orders`, { authorization: `Bearer ${rotated}` });
    expect(before.response.status).toBe(401);
    expect(before.json().message).toContain('no key of the JWKS matches the token (kid)');
    writeFileSync(jwks, JSON.stringify({ keys: [first.publicJwk, second.publicJwk] }));
    expect(
      (await get(`${m.gateway}/orders`, { authorization: `Bearer ${rotated}` })).response.status,
    ).toBe(200);
  });

  it('a token the gateway verified and remembers is refused once it expires', async () => {
    const key = await keyPair('k1');
    const { m } = await meshWithJwksFile([key.publicJwk], ', clockSkew: 0s');
    // Valid for 2–3 s: room for two calls on a loaded machine before it expires.
    const exp = Math.floor(Date.now() / 1000) + 3;
    const token = await signForShop(key, exp);
    const auth = { authorization: `Bearer ${token}` };
    // Verified once, then answered from the verified-token cache.
    expect((await get(`${m.gateway}/orders`, auth)).response.status).toBe(200);
    expect((await get(`${m.gateway}/orders`, auth)).response.status).toBe(200);
    // The signature was checked once; its expiry is checked again on every use.
    while (Date.now() / 1000 <= exp + 0.1) await new Promise((r) => setTimeout(r, 100));
    const late = await get(`${m.gateway}/orders`, auth);
    expect(late.response.status).toBe(401);
    expect(late.json().message).toContain('the token has expired');
  });

  it('a loopback JWKS URL: fetched, cached, and fetched again when a token names a new kid', async () => {
    const first = await keyPair('k1');
    let keys: JWK[] = [first.publicJwk];
    let fetches = 0;
    const idp = await scope.server((_req, res) => {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys }));
    });
    const { m } = await meshWithEcho(
      `, issuer: https://id.example.com, audience: shop, jwks: "http://127.0.0.1:${idp.port}/jwks"`,
    );
    const sign = signForShop;
    const token = await sign(first);
    expect(
      (await get(`${m.gateway}/orders`, { authorization: `Bearer ${token}` })).response.status,
    ).toBe(200);
    expect(
      (await get(`${m.gateway}/orders`, { authorization: `Bearer ${await sign(first)}x` })).response
        .status,
    ).toBe(401);
    expect(fetches).toBe(1);
    const second = await keyPair('k2');
    keys = [first.publicJwk, second.publicJwk];
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // past the 1 s refetch cooldown
    expect(
      (await get(`${m.gateway}/orders`, { authorization: `Bearer ${await sign(second)}` })).response
        .status,
    ).toBe(200);
    expect(fetches).toBe(2);
  });
});

describe('plans', () => {
  it('a rate limit lets N through, refuses N+1 with 429 and Retry-After, and says so in headers', async () => {
    const { m, upstream } = await meshWithEcho();
    const key = { 'x-api-key': 'alice-key-0001' };
    const seen: Array<Record<string, string | null>> = [];
    for (let i = 0; i < 4; i++) {
      const { response } = await get(`${m.gateway}/orders`, key);
      seen.push({
        status: String(response.status),
        limit: response.headers.get('x-ratelimit-limit'),
        remaining: response.headers.get('x-ratelimit-remaining'),
        policy: response.headers.get('ratelimit-policy'),
        state: response.headers.get('ratelimit')?.replace(/t=\d+/, 't=T') ?? null,
        retry: response.headers.get('retry-after'),
      });
    }
    expect(seen).toEqual([
      {
        status: '200',
        limit: '3',
        remaining: '2',
        policy: '"free";q=3;w=60',
        state: '"free";r=2;t=T',
        retry: null,
      },
      {
        status: '200',
        limit: '3',
        remaining: '1',
        policy: '"free";q=3;w=60',
        state: '"free";r=1;t=T',
        retry: null,
      },
      {
        status: '200',
        limit: '3',
        remaining: '0',
        policy: '"free";q=3;w=60',
        state: '"free";r=0;t=T',
        retry: null,
      },
      {
        status: '429',
        limit: '3',
        remaining: '0',
        policy: '"free";q=3;w=60',
        state: '"free";r=0;t=T',
        retry: expect.stringMatching(/^\d+$/),
      },
    ]);
    expect(Number(seen[3]!.retry)).toBeGreaterThan(0);
    expect(Number(seen[3]!.retry)).toBeLessThanOrEqual(60);
    expect(upstream.requests).toBe(3);
    await until(() => m.calls.length === 4);
    expect(m.calls[3]!.flags).toEqual(['RL']);
    // Another consumer has its own counters.
    expect(
      (await get(`${m.gateway}/orders`, { 'x-api-key': 'bob-key-00001' })).response.status,
    ).toBe(200);
  });

  it('callers without credentials share the anonymous plan, keyed by their address', async () => {
    const { m } = await meshWithEcho();
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await get(`${m.gateway}/public/x`)).response.status);
    expect(statuses).toEqual([200, 200, 429]);
    const refused = await get(`${m.gateway}/public/x`);
    expect(refused.json().message).toMatch(
      /^this client is over its anonymous rate limit of 2 requests/,
    );
  });

  it('a route limit applies per consumer on top of the plan, and both policies are announced', async () => {
    const { m } = await meshWithEcho();
    const alice = { 'x-api-key': 'alice-key-0001' };
    const first = await get(`${m.gateway}/search`, alice);
    expect(first.response.status).toBe(200);
    expect(first.response.headers.get('ratelimit-policy')).toBe(
      '"route /search";q=1;w=60, "free";q=3;w=60',
    );
    expect(first.response.headers.get('x-ratelimit-remaining')).toBe('0');
    const second = await get(`${m.gateway}/search`, alice);
    expect(second.response.status).toBe(429);
    expect(second.json().message).toMatch(
      /^consumer alice is over the route \/search rate limit of 1 requests/,
    );
    // Bob has his own count on the route; alice's plan still has room elsewhere.
    expect(
      (await get(`${m.gateway}/search`, { 'x-api-key': 'bob-key-00001' })).response.status,
    ).toBe(200);
    expect((await get(`${m.gateway}/orders`, alice)).response.status).toBe(200);
  });

  it("every answer on a limited route carries its fields: the mesh's own (HTTP and WebSocket) and a 101", async () => {
    const app = await scope.server(echo('ws'));
    const wss = new WebSocketServer({ server: app.server });
    wss.on('connection', (peer) => peer.on('message', (data) => peer.send(data)));
    scope.defer(() => new Promise<void>((resolve) => wss.close(() => resolve())));
    const m = await scope.mesh(
      `version: 1
mesh: { name: edge-ws, mtls: off, admin: { port: 0 }, ports: { from: 0 } }
gateway:
  port: 0
  auth: { require: apiKey }
  routes: [{ path: /live, service: live }, { path: /, service: dead }]
consumers:
  alice: { plan: free, keys: ["alice-key-0001"] }
plans:
  free: { rateLimit: { requests: 5, per: 1m } }
services:
  live: { port: "\${L}" }
  dead: { port: "\${D}" }
`,
      { L: String(app.port), D: String(await deadPort()) },
    );
    const alice = { 'x-api-key': 'alice-key-0001' };
    const http = await get(`${m.gateway}/x`, alice);
    expect(http.response.status).toBe(502);
    expect(http.response.headers.get('ratelimit')).toMatch(/^"free";r=4;t=\d+$/);
    expect(http.response.headers.get('x-meshdev-attempts')).toBe('1');
    // The tunnel's own refusal, then the app's 101: the head of each.
    const handshake = (path: string) =>
      new Promise<{ status: number; headers: IncomingMessage['headers'] }>((resolve, reject) => {
        const socket = new WebSocket(m.gateway.replace('http', 'ws') + path, { headers: alice });
        socket.on('unexpected-response', (_req, res) =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers }),
        );
        socket.on('upgrade', (res) => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers });
          socket.close();
        });
        socket.on('error', reject);
      });
    const refused = await handshake('/ws');
    expect(refused.status).toBe(502);
    expect(refused.headers['x-meshdev-error']).toBe('upstream_unreachable');
    expect(refused.headers['x-ratelimit-remaining']).toBe('3');
    expect(refused.headers['ratelimit-policy']).toBe('"free";q=5;w=60');
    const opened = await handshake('/live/ws');
    expect(opened.status).toBe(101);
    expect(opened.headers['x-ratelimit-remaining']).toBe('2');
    expect(opened.headers.ratelimit).toMatch(/^"free";r=2;t=\d+$/);
  });

  it('meshdev plan set moves a consumer to another plan at once, and clear moves it back', async () => {
    const { m } = await meshWithEcho();
    const key = { 'x-api-key': 'alice-key-0001' };
    for (let i = 0; i < 3; i++) await get(`${m.gateway}/orders`, key);
    expect((await get(`${m.gateway}/orders`, key)).response.status).toBe(429);
    m.mesh.runtime.setPlan('alice', 'gold');
    const gold = await get(`${m.gateway}/orders`, key);
    expect(gold.response.status).toBe(200);
    expect(gold.response.headers.get('ratelimit-policy')).toBe('"gold-quota";q=3;w=86400');
    m.mesh.runtime.setPlan('alice', null);
    expect((await get(`${m.gateway}/orders`, key)).response.status).toBe(429);
    expect(() => m.mesh.runtime.setPlan('alice', 'platinum')).toThrow(
      'no plan "platinum" (plans: free, gold, anonymous)',
    );
  });

  it('a plan edited in the file applies on reload (a changed rate limit starts a new window)', async () => {
    const { file, text, controller, gateway } = await reloadableMesh();
    const key = { 'x-api-key': 'alice-key-0001' };
    for (let i = 0; i < 3; i++) await get(`${gateway}/orders`, key);
    expect((await get(`${gateway}/orders`, key)).response.status).toBe(429);
    writeFileSync(
      file,
      text.replace(
        'free: { rateLimit: { requests: 3, per: 1m } }',
        'free: { rateLimit: { requests: 5, per: 1m } }',
      ),
    );
    expect((await controller.reload()).message).toBe('applied in place');
    const after = await get(`${gateway}/orders`, key);
    expect(after.response.status).toBe(200);
    expect(after.response.headers.get('ratelimit-policy')).toBe('"free";q=5;w=60');
  });

  it("a reload that changes the gateway's requirement, a key or a consumer's groups applies on the next request", async () => {
    // What the edge builds once per config (a route's policy, the consumer a key names)
    // must be built again for the new one, never carried over.
    const { file, text, controller, gateway } = await reloadableMesh();
    const alice = { 'x-api-key': 'alice-key-0001' };
    expect((await get(`${gateway}/beta`, alice)).response.status).toBe(200);
    expect((await get(`${gateway}/orders`)).response.status).toBe(401);

    // Consumers only: applied in place, on the same listeners.
    const consumersChanged = text.replace(
      'keys: ["alice-key-0001", "alice-key-0002"], groups: [beta]',
      'keys: ["alice-key-0002"], groups: [gamma]',
    );
    expect(consumersChanged).not.toBe(text);
    writeFileSync(file, consumersChanged);
    expect((await controller.reload()).message).toBe('applied in place');
    // alice's first key is gone, and her second one names a consumer outside `beta`.
    expect((await get(`${gateway}/beta`, alice)).response.status).toBe(401);
    const second = await get(`${gateway}/beta`, { 'x-api-key': 'alice-key-0002' });
    expect(second.response.status).toBe(403);
    expect(second.json().message).toContain('groups beta');

    // The gateway's default requirement: the routes without their own `auth` follow it.
    writeFileSync(file, consumersChanged.replace('require: any,', 'require: none,'));
    await controller.reload();
    const after = `http://127.0.0.1:${controller.mesh.gatewayPort()}`;
    expect((await get(`${after}/orders`)).response.status).toBe(200);
    expect((await get(`${after}/bob-only`)).response.status).toBe(401);
  });

  it('a quota survives a restart of the mesh, and refuses with 429 when used up', async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'meshdev-quota-'));
    const key = { 'x-api-key': 'bob-key-00001' };
    const first = await meshWithEcho('', stateDir);
    expect((await get(`${first.m.gateway}/orders`, key)).response.headers.get('ratelimit')).toMatch(
      /^"gold-quota";r=2;t=\d+$/,
    );
    expect((await get(`${first.m.gateway}/orders`, key)).response.status).toBe(200);
    await first.m.stop();
    const second = await meshWithEcho('', stateDir);
    scope.defer(() => second.m.stop());
    const third = await get(`${second.m.gateway}/orders`, key);
    expect(third.response.status).toBe(200);
    expect(third.response.headers.get('ratelimit')).toMatch(/^"gold-quota";r=0;t=\d+$/);
    const over = await get(`${second.m.gateway}/orders`, key);
    expect(over.response.status).toBe(429);
    expect(over.response.headers.get('x-meshdev-error')).toBe('quota_exceeded');
    expect(over.json().message).toMatch(
      /^consumer bob used its gold quota of 3 requests; it renews in \d+s$/,
    );
  });
});

describe('CORS', () => {
  it('answers allowed preflights itself, refuses others saying why, and marks actual responses', async () => {
    const { m, upstream } = await meshWithEcho();
    const preflight = (origin: string, method = 'POST', headers = 'content-type') =>
      fetch(`${m.gateway}/orders`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': method,
          'access-control-request-headers': headers,
        },
      });
    const allowed = await preflight('https://shop.example.com');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://shop.example.com');
    expect(allowed.headers.get('access-control-allow-methods')).toContain('POST');
    expect(allowed.headers.get('access-control-max-age')).toBe('600');
    const evil = await preflight('https://example.com.evil.io');
    expect(evil.status).toBe(403);
    expect(evil.headers.get('x-meshdev-cors')).toBe(
      'origin https://example.com.evil.io is not in gateway.cors.origins',
    );
    const header = await preflight('http://localhost:5173', 'GET', 'x-secret');
    expect(header.headers.get('x-meshdev-cors')).toBe(
      'header x-secret is not in gateway.cors.headers',
    );
    expect(upstream.requests).toBe(0);
    const actual = await fetch(`${m.gateway}/orders`, {
      headers: { origin: 'http://localhost:5173', 'x-api-key': 'alice-key-0001' },
    });
    expect(actual.status).toBe(200);
    expect(actual.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(actual.headers.get('access-control-expose-headers')).toContain('ratelimit');
  });
});

/** A token for bob from the test's own issuer, signed by `key`. */
function signForShop(
  key: Awaited<ReturnType<typeof keyPair>>,
  expires: string | number = '5m',
): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: key.kid })
    .setIssuer('https://id.example.com')
    .setAudience('shop')
    .setSubject('bob')
    .setExpirationTime(expires)
    .sign(key.privateKey);
}

/** A gateway trusting a JWKS file that holds `keys` (issuer id.example.com, audience shop). */
async function meshWithJwksFile(keys: JWK[], extra = '') {
  const dir = mkdtempSync(path.join(tmpdir(), 'meshdev-jwks-'));
  const jwks = path.join(dir, 'jwks.json');
  writeFileSync(jwks, JSON.stringify({ keys }));
  const { m } = await meshWithEcho(
    `, issuer: https://id.example.com, audience: shop, jwks: ${jwks}${extra}`,
  );
  return { m, jwks };
}

async function keyPair(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  return { kid, privateKey, publicJwk };
}

function decode(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
}
