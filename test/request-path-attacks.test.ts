/**
 * What an attacker on 127.0.0.1 tries against the request path, sent with a raw socket
 * (no client normalizes anything on the way): every entry runs `normalize` and the header
 * policy first, and WebSocket handshakes go through the same authorization as requests.
 */
import http from 'node:http';
import http2 from 'node:http2';
import { describe, expect, it } from 'vitest';
import { echo } from '../fixtures/servers/upstreams.js';
import { rawExchange, rawRequest } from './helpers/raw-http.js';
import { testScope } from './helpers/scope.js';

const scope = testScope();

/** An app that echoes requests and records every WebSocket handshake it receives. */
async function app() {
  const handshakes: Array<{ url: string; headers: http.IncomingHttpHeaders }> = [];
  const started = await scope.server(echo('app'));
  started.server.on('upgrade', (req: http.IncomingMessage, socket) => {
    handshakes.push({ url: req.url ?? '', headers: req.headers });
    socket.end(
      'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n',
    );
  });
  return { port: started.port, handshakes };
}

const config = (mtls: string, allow: string, routes = '[{ path: /, service: app }]') => `version: 1
mesh: { name: attack, mtls: ${mtls}, ports: { from: 0 }, admin: { port: 0 } }
gateway: { port: 0, routes: ${routes} }
services:
  app:
    port: "\${P}"
    allow: ${allow}
`;

const gatewayPort = (gateway: string) => Number(new URL(gateway).port);
const upgradeLines = (path: string, extra: string[] = []) => [
  `GET ${path} HTTP/1.1`,
  'host: localhost',
  'connection: Upgrade',
  'upgrade: websocket',
  'sec-websocket-version: 13',
  'sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==',
  ...extra,
];
const SPOOFED = [
  'x-forwarded-client-cert: By=x;URI=spiffe://evil/ns/default/sa/admin',
  'x-meshdev-caller: orders',
  'x-meshdev-anything: 1',
  'x-forwarded-for: 6.6.6.6',
  'x-forwarded-proto: https',
  'x-forwarded-host: evil.example',
];

describe('WebSocket handshakes run the same policy as requests', () => {
  it('a handshake to a path that allow refuses gets 403, in every mtls mode', async () => {
    for (const mtls of ['off', 'permissive', 'strict']) {
      const target = await app();
      const m = await scope.mesh(config(mtls, '[{ from: gateway, paths: ["/api/*"] }]'), {
        P: String(target.port),
      });
      const port = gatewayPort(m.gateway);
      const refused = await rawRequest(port, upgradeLines('/admin'));
      expect(refused.status, mtls).toBe(403);
      expect(refused.headers['x-meshdev-error']).toBe('unauthorized');
      expect(target.handshakes, mtls).toEqual([]);
      const allowed = await rawRequest(port, upgradeLines('/api/ws'));
      expect(allowed.status, mtls).toBe(101);
      expect(target.handshakes.map((h) => h.url)).toEqual(['/api/ws']);
    }
  });

  it('a handshake carries no spoofed identity, internal or x-forwarded-* header to the app', async () => {
    for (const mtls of ['off', 'strict']) {
      const target = await app();
      const m = await scope.mesh(config(mtls, '[gateway]'), { P: String(target.port) });
      const answer = await rawRequest(gatewayPort(m.gateway), upgradeLines('/ws', SPOOFED));
      expect(answer.status, mtls).toBe(101);
      const seen = target.handshakes[0]!.headers;
      expect(
        Object.keys(seen).filter((name) => name.startsWith('x-meshdev-')),
        mtls,
      ).toEqual([]);
      expect(seen['x-forwarded-for'], mtls).not.toContain('6.6.6.6');
      expect(seen['x-forwarded-proto'], mtls).toBe('http');
      expect(seen['x-forwarded-host'], mtls).toBe('localhost');
      if (mtls === 'off') expect(seen['x-forwarded-client-cert']).toBeUndefined();
      else
        expect(seen['x-forwarded-client-cert']).toMatch(
          /;URI=spiffe:\/\/meshdev\.local\/ns\/default\/sa\/gateway$/,
        );
    }
  });

  it('a handshake is recorded as a call with status 101 when the session ends', async () => {
    const target = await app();
    const m = await scope.mesh(config('off', '[gateway]'), { P: String(target.port) });
    await rawRequest(gatewayPort(m.gateway), upgradeLines('/ws'));
    await expect.poll(() => m.calls.map((call) => call.status), { timeout: 5_000 }).toEqual([101]);
    expect(m.calls[0]).toMatchObject({ caller: 'gateway', service: 'app', path: '/ws' });
  });
});

describe('paths are normalized before any rule sees them', () => {
  it('dot-segments and escaped dots cannot step out of an allowed prefix', async () => {
    for (const mtls of ['off', 'strict']) {
      const target = await app();
      const m = await scope.mesh(config(mtls, '[{ from: gateway, paths: ["/api/*"] }]'), {
        P: String(target.port),
      });
      const port = gatewayPort(m.gateway);
      for (const path of [
        '/api/../admin',
        '/api/%2e%2e/admin',
        '/api/%2E%2E/admin',
        '/api/./../admin',
      ]) {
        const answer = await rawRequest(port, [
          `GET ${path} HTTP/1.1`,
          'host: x',
          'connection: close',
        ]);
        expect(answer.status, `${mtls} ${path}`).toBe(403);
      }
      const escapedSlash = await rawRequest(port, [
        'GET /api/..%2fadmin HTTP/1.1',
        'host: x',
        'connection: close',
      ]);
      expect(escapedSlash.status).toBe(400);
      expect(escapedSlash.headers['x-meshdev-error']).toBe('bad_request');
      const inside = await rawRequest(port, [
        'GET /api/a/../b?q=/../x HTTP/1.1',
        'host: x',
        'connection: close',
      ]);
      expect(inside.status).toBe(200);
      expect((JSON.parse(inside.body) as { url: string }).url).toBe('/api/b?q=/../x');
      expect(target.handshakes).toEqual([]);
    }
  });

  it('stripPrefix works on the normalized path: /public/../x never reaches the app as /../x', async () => {
    const target = await app();
    const m = await scope.mesh(
      config('off', '[gateway]', '[{ path: /public, service: app, stripPrefix: true }]'),
      { P: String(target.port) },
    );
    const port = gatewayPort(m.gateway);
    const escaped = await rawRequest(port, [
      'GET /public/../x HTTP/1.1',
      'host: x',
      'connection: close',
    ]);
    expect(escaped.status).toBe(404);
    expect(escaped.headers['x-meshdev-error']).toBe('gateway_no_route');
    const inside = await rawRequest(port, [
      'GET /public/a/../b HTTP/1.1',
      'host: x',
      'connection: close',
    ]);
    expect((JSON.parse(inside.body) as { url: string }).url).toBe('/b');
  });

  it('absolute-form targets are reduced to origin-form, and OPTIONS * is answered by meshdev', async () => {
    const target = await app();
    const m = await scope.mesh(config('off', '[gateway]'), { P: String(target.port) });
    const port = gatewayPort(m.gateway);
    const absolute = await rawRequest(port, [
      'GET http://elsewhere.example/api/../x HTTP/1.1',
      'host: x',
      'connection: close',
    ]);
    const seen = JSON.parse(absolute.body) as { url: string; headers: Record<string, string> };
    expect(seen.url).toBe('/x');
    expect(seen.headers['x-forwarded-host']).toBe('elsewhere.example');
    const star = await rawRequest(port, ['OPTIONS * HTTP/1.1', 'host: x', 'connection: close']);
    expect(star.status).toBe(200);
    expect(star.headers.allow).toContain('GET');
    expect(star.headers['x-meshdev-error']).toBeUndefined();
  });
});

describe('the header policy on plain requests', () => {
  it('the gateway replaces client x-forwarded-* and strips identity and internal headers', async () => {
    const target = await app();
    const m = await scope.mesh(config('strict', '[gateway]'), { P: String(target.port) });
    const answer = await rawRequest(gatewayPort(m.gateway), [
      'GET /h HTTP/1.1',
      'host: shop.localhost:8080',
      'connection: close',
      ...SPOOFED,
    ]);
    const seen = (JSON.parse(answer.body) as { headers: Record<string, string> }).headers;
    // The client's own value is gone; each mesh hop appends the address it saw.
    expect(seen['x-forwarded-for']).toMatch(/^127\.0\.0\.1(, 127\.0\.0\.1)?$/);
    expect(seen['x-forwarded-proto']).toBe('http');
    expect(seen['x-forwarded-host']).toBe('shop.localhost:8080');
    expect(seen.host).toBe('shop.localhost:8080');
    expect(seen['x-forwarded-client-cert']).toMatch(
      /;URI=spiffe:\/\/meshdev\.local\/ns\/default\/sa\/gateway$/,
    );
    expect(Object.keys(seen).filter((name) => name.startsWith('x-meshdev-'))).toEqual([]);
  });

  it('gateway.preserveHost: false sends the upstream address as Host instead', async () => {
    const target = await app();
    const m = await scope.mesh(
      config('off', '[gateway]').replace(
        'gateway: { port: 0,',
        'gateway: { port: 0, preserveHost: false,',
      ),
      { P: String(target.port) },
    );
    const answer = await rawRequest(gatewayPort(m.gateway), [
      'GET /h HTTP/1.1',
      'host: shop.localhost:8080',
      'connection: close',
    ]);
    const seen = (JSON.parse(answer.body) as { headers: Record<string, string> }).headers;
    expect(seen.host).toBe(`127.0.0.1:${target.port}`);
    expect(seen['x-forwarded-host']).toBe('shop.localhost:8080');
  });
});

describe('a malformed request gets an answer, not a silent close', () => {
  /** An echoing app counting what reaches it, behind a gateway (mtls on between hops). */
  async function gatewayToApp() {
    const target = await scope.server(echo('app'));
    const m = await scope.mesh(config('strict', '[gateway]'), { P: String(target.port) });
    const warnings: string[] = [];
    m.mesh.bus.on('warning', (warning) => warnings.push(`${warning.listener}: ${warning.message}`));
    return { target, port: gatewayPort(m.gateway), warnings, m };
  }
  const errorOf = (body: string) => JSON.parse(body) as { error: string; message: string };

  it('an unknown method is answered 400 bad_request, naming the parser error, and warned about', async () => {
    const { target, port, warnings } = await gatewayToApp();
    const answer = await rawRequest(port, ['BREW /pot HTTP/1.1', 'host: x']);
    expect(answer.status).toBe(400);
    expect(answer.headers['x-meshdev-error']).toBe('bad_request');
    expect(answer.headers.connection).toBe('close');
    expect(errorOf(answer.body)).toMatchObject({
      error: 'bad_request',
      message: 'gateway refused the request: Invalid method encountered (HPE_INVALID_METHOD)',
    });
    expect(target.requests).toBe(0);
    expect(warnings).toEqual([
      expect.stringMatching(
        /^gateway: refused a request from 127\.0\.0\.1:\d+ with 400: .*HPE_INVALID_METHOD/,
      ),
    ]);
  });

  it('headers over Node’s limit are answered 431 request_headers_too_large', async () => {
    const { target, port } = await gatewayToApp();
    const answer = await rawRequest(port, [
      'GET /big HTTP/1.1',
      'host: x',
      `x-big: ${'a'.repeat(20_000)}`,
    ]);
    expect(answer.status).toBe(431);
    expect(answer.headers['x-meshdev-error']).toBe('request_headers_too_large');
    expect(errorOf(answer.body).message).toContain('HPE_HEADER_OVERFLOW');
    expect(target.requests).toBe(0);
  });

  it('a smuggling attempt (Content-Length with Transfer-Encoding) is refused before the app', async () => {
    const { target, port } = await gatewayToApp();
    const [answer, ...more] = await rawExchange(
      port,
      'POST /a HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n' +
        '0\r\n\r\nGET /smuggled HTTP/1.1\r\nhost: x\r\n\r\n',
    );
    expect(answer!.status).toBe(400);
    expect(errorOf(answer!.body).message).toContain('HPE_INVALID_TRANSFER_ENCODING');
    expect(more).toEqual([]);
    expect(target.requests).toBe(0);
  });

  it('a bad request pipelined after a good one: the good one is answered first, then 400', async () => {
    const { target, port } = await gatewayToApp();
    const answers = await rawExchange(
      port,
      'GET /first HTTP/1.1\r\nhost: x\r\n\r\nGET /bad path HTTP/1.1\r\nhost: x\r\n\r\n',
    );
    expect(answers.map((answer) => answer.status)).toEqual([200, 400]);
    expect((JSON.parse(answers[0]!.body) as { url: string }).url).toBe('/first');
    expect(answers[1]!.headers['x-meshdev-error']).toBe('bad_request');
    expect(target.requests).toBe(1);
  });

  it('CONNECT (the listener taken for a forward proxy) is answered 405, and nothing is tunneled', async () => {
    const { target, port, warnings } = await gatewayToApp();
    const answer = await rawRequest(port, [
      `CONNECT 127.0.0.1:${target.port} HTTP/1.1`,
      `host: 127.0.0.1:${target.port}`,
    ]);
    expect(answer.status).toBe(405);
    expect(answer.headers['x-meshdev-error']).toBe('method_not_allowed');
    expect(errorOf(answer.body).message).toBe(
      'gateway refused the request: CONNECT: a mesh listener is not a forward proxy',
    );
    expect(target.requests).toBe(0);
    expect(warnings).toEqual([
      expect.stringMatching(/^gateway: refused a CONNECT from 127\.0\.0\.1:\d+ with 405/),
    ]);
  });

  it('an HTTP/2 client (prior knowledge, as gRPC opens) is refused in HTTP/2: GOAWAY HTTP_1_1_REQUIRED', async () => {
    const { target, m, warnings } = await gatewayToApp();
    const session = http2.connect(m.gateway);
    const goaway = new Promise<{ code: number; debug: string }>((resolve) =>
      session.once('goaway', (code, _last, debug) =>
        resolve({ code, debug: debug?.toString() ?? '' }),
      ),
    );
    session.on('error', () => {});
    const stream = session.request({ ':path': '/grpc.Service/Method', ':method': 'POST' });
    const streamError = new Promise<string>((resolve) =>
      stream.once('error', (error: NodeJS.ErrnoException) => resolve(error.message)),
    );
    stream.end();
    expect(await goaway).toEqual({
      code: http2.constants.NGHTTP2_HTTP_1_1_REQUIRED,
      debug: "meshdev's gateway listener speaks HTTP/1.1 only",
    });
    expect(await streamError).toContain('error code 13');
    session.destroy();
    expect(target.requests).toBe(0);
    expect(warnings).toEqual([
      expect.stringMatching(
        /^gateway: refused an HTTP\/2 connection from 127\.0\.0\.1:\d+ \(prior knowledge.*GOAWAY HTTP_1_1_REQUIRED$/,
      ),
    ]);
    const fine = await rawRequest(gatewayPort(m.gateway), [
      'GET /after HTTP/1.1',
      'host: x',
      'connection: close',
    ]);
    expect(fine.status).toBe(200);
  });

  it('an outbound listener answers the same way, and the mesh keeps serving', async () => {
    const target = await scope.server(echo('app'));
    const m = await scope.mesh(
      `${config('strict', '[gateway, client]')}  client: { port: 1, upstreams: [app] }\n`,
      { P: String(target.port) },
    );
    const port = gatewayPort(m.gateway);
    const outbound = Number(new URL(m.outbound('client', 'app')).port);
    const refused = await rawRequest(outbound, ['GET /x HTTP/1.1', 'host: x', 'bad header: 1']);
    expect(refused.status).toBe(400);
    expect(errorOf(refused.body).message).toMatch(
      /^outbound client→app refused the request: .*\(HPE_INVALID_HEADER_TOKEN\)$/,
    );
    const fine = await rawRequest(port, ['GET /after HTTP/1.1', 'host: x', 'connection: close']);
    expect(fine.status).toBe(200);
  });
});
