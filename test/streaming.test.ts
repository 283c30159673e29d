import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { deadPort } from '../fixtures/servers/upstreams.js';
import { type TestMesh } from './helpers/mesh.js';
import { testScope } from './helpers/scope.js';

const MESH = 'version: 1\nmesh: { name: t, ports: { from: 0 }, admin: { port: 0 } }\n';
const scope = testScope();

const server = scope.server;
const mesh = (yaml: string, env: Record<string, string>): Promise<TestMesh> =>
  scope.mesh(MESH + yaml, env);

/** A config where `caller` reaches `api` through its outbound listener; the gateway fronts caller. */
const twoHops = `gateway: { port: 0, routes: [{ path: /, service: api }] }
services:
  caller: { port: 1, upstreams: [api] }
  api: { port: "\${P}" }
`;

describe('streaming', () => {
  it('a 100 MB upload arrives byte-exact and the sha256 comes back equal', async () => {
    const api = await server((req, res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      req.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        bytes += chunk.length;
      });
      req.on('end', () => res.end(JSON.stringify({ bytes, sha256: hash.digest('hex') })));
    });
    const m = await mesh(twoHops, { P: String(api.port) });
    const chunk = randomBytes(1024 * 1024);
    const expected = createHash('sha256');
    for (let i = 0; i < 100; i++) expected.update(chunk);
    const body = Readable.from(
      (function* () {
        for (let i = 0; i < 100; i++) yield chunk;
      })(),
    );
    const response = await fetch(`${m.outbound('caller', 'api')}/upload`, {
      method: 'POST',
      body: body as never,
      duplex: 'half',
    } as RequestInit);
    expect(await response.json()).toEqual({
      bytes: 100 * 1024 * 1024,
      sha256: expected.digest('hex'),
    });
    expect(m.calls[0]!.bytesIn).toBe(100 * 1024 * 1024);
  }, 60_000);

  it('a 100 MB download arrives byte-exact through the gateway', async () => {
    const chunk = randomBytes(1024 * 1024);
    const api = await server((_req, res) => {
      res.writeHead(200, { 'content-length': String(100 * chunk.length) });
      Readable.from(
        (function* () {
          for (let i = 0; i < 100; i++) yield chunk;
        })(),
      ).pipe(res);
    });
    const m = await mesh(twoHops, { P: String(api.port) });
    const response = await fetch(`${m.gateway}/download`);
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const part of response.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(part);
      bytes += part.length;
    }
    const expected = createHash('sha256');
    for (let i = 0; i < 100; i++) expected.update(chunk);
    expect(bytes).toBe(100 * chunk.length);
    expect(hash.digest('hex')).toBe(expected.digest('hex'));
  }, 60_000);

  it('server-sent events reach the client while the upstream is still writing', async () => {
    let finish!: () => void;
    const api = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('data: first\n\n');
      finish = () => res.end('data: last\n\n');
    });
    const m = await mesh(twoHops, { P: String(api.port) });
    const response = await fetch(`${m.gateway}/events`);
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('data: first\n\n');
    finish();
    let rest = '';
    for (let part = await reader.read(); !part.done; part = await reader.read())
      rest += new TextDecoder().decode(part.value);
    expect(rest).toBe('data: last\n\n');
  });

  it('a WebSocket echoes through the gateway and an outbound hop', async () => {
    const api = await server((_req, res) => res.end());
    const wss = new WebSocketServer({ server: api.server });
    wss.on('connection', (socket) =>
      socket.on('message', (data) => socket.send(`echo:${String(data)}`)),
    );
    scope.defer(() => new Promise<void>((resolve) => wss.close(() => resolve())));
    const m = await mesh(twoHops, { P: String(api.port) });
    for (const base of [m.gateway, m.outbound('caller', 'api')]) {
      const socket = new WebSocket(base.replace('http', 'ws') + '/ws');
      const reply = await new Promise<string>((resolve, reject) => {
        socket.on('open', () => socket.send('hello'));
        socket.on('message', (data) => resolve(String(data)));
        socket.on('error', reject);
      });
      expect(reply).toBe('echo:hello');
      socket.close();
    }
  });

  it('a WebSocket session is one call: 101, its duration, bytes each way and the close code', async () => {
    const api = await server((_req, res) => res.end());
    const wss = new WebSocketServer({ server: api.server });
    wss.on('connection', (socket) =>
      socket.on('message', (data) => {
        if (String(data) === 'bye') socket.close(4001, 'server says bye');
        else socket.send(`echo:${String(data)}`);
      }),
    );
    scope.defer(() => new Promise<void>((resolve) => wss.close(() => resolve())));
    const m = await mesh(twoHops, { P: String(api.port) });
    for (const [who, expected] of [
      ['client', 1000],
      ['server', 4001],
    ] as const) {
      const socket = new WebSocket(m.gateway.replace('http', 'ws') + `/ws-${who}`);
      await new Promise<void>((resolve, reject) => {
        socket.on('open', () => socket.send('hello'));
        socket.on('message', () => (who === 'client' ? socket.close(1000) : socket.send('bye')));
        socket.on('close', () => resolve());
        socket.on('error', reject);
      });
      await expect
        .poll(() => m.calls.find((call) => call.path === `/ws-${who}`), { timeout: 5_000 })
        .toBeDefined();
      const call = m.calls.find((c) => c.path === `/ws-${who}`)!;
      expect(call).toMatchObject({ status: 101, caller: 'gateway', wsCloseCode: expected });
      expect(call.bytesIn).toBeGreaterThan(0);
      expect(call.bytesOut).toBeGreaterThan(0);
    }
  });

  it('a handshake the app answers plainly is recorded with its status; a dead app answers 502 UF', async () => {
    // An app that is no WebSocket server: it answers the handshake like any request.
    const plain = await server((_req, res) => res.end('not a websocket endpoint'));
    for (const mtls of ['off', 'strict']) {
      const m = await scope.mesh(
        `version: 1
mesh: { name: t, mtls: ${mtls}, ports: { from: 0 }, admin: { port: 0 } }
gateway: { port: 0, routes: [{ path: /dead, service: dead }, { path: /, service: plain }] }
services:
  plain: { port: "\${P}" }
  dead: { port: "\${D}" }
`,
        { P: String(plain.port), D: String(await deadPort()) },
      );
      const answers: Record<string, number> = {};
      for (const path of ['/ws', '/dead/ws']) {
        const socket = new WebSocket(m.gateway.replace('http', 'ws') + path);
        answers[path] = await new Promise<number>((resolve, reject) => {
          socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
          socket.on('open', () => reject(new Error(`${path} opened`)));
          socket.on('error', reject);
        });
      }
      expect(answers, mtls).toEqual({ '/ws': 200, '/dead/ws': 502 });
      await expect.poll(() => m.calls.length, { timeout: 5_000 }).toBe(2);
      const byPath = Object.fromEntries(m.calls.map((call) => [call.path, call]));
      expect(byPath['/ws'], mtls).toMatchObject({ status: 200, flags: [] });
      expect(byPath['/dead/ws'], mtls).toMatchObject({ status: 502, flags: ['UF'] });
    }
  });

  it('a caller that leaves before the upstream answers its handshake is recorded 0 DC', async () => {
    const silent = await server((_req, res) => res.end());
    let reached!: () => void;
    const handshakeReached = new Promise<void>((resolve) => (reached = resolve));
    // Takes the handshake and never answers it (the socket is closed at the end, at the latest).
    silent.server.on('upgrade', (_req, appSocket: Socket) => {
      scope.defer(async () => void appSocket.destroy());
      reached();
    });
    const m = await mesh(twoHops, { P: String(silent.port) });
    const socket = new WebSocket(m.gateway.replace('http', 'ws') + '/never');
    socket.on('error', () => {});
    await handshakeReached;
    socket.terminate();
    await expect.poll(() => m.calls.length, { timeout: 5_000 }).toBe(1);
    expect(m.calls[0]).toMatchObject({ path: '/never', status: 0, flags: ['DC'] });
  });

  it('a client aborting mid-upload aborts the upstream request and leaks no socket', async () => {
    let upstreamAborted!: () => void;
    const aborted = new Promise<void>((resolve) => (upstreamAborted = resolve));
    const api = await server((req) => {
      req.on('data', () => {});
      req.on('close', () => {
        if (!req.complete) upstreamAborted();
      });
    });
    const m = await mesh(twoHops, { P: String(api.port) });
    const { port } = new URL(m.outbound('caller', 'api'));
    const req = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/upload',
      headers: { 'content-length': String(10 * 1024 * 1024) },
    });
    req.on('error', () => {});
    req.write(randomBytes(256 * 1024));
    await new Promise((resolve) => setTimeout(resolve, 100));
    req.destroy();
    await aborted;
    // Every socket of the mesh's listeners and of the upstream closes.
    const deadline = Date.now() + 2000;
    let open = Infinity;
    while (Date.now() < deadline) {
      open = await openConnections(api.server);
      if (open === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(open).toBe(0);
  });
});

function openConnections(server: import('node:http').Server): Promise<number> {
  return new Promise((resolve, reject) =>
    server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
  );
}
