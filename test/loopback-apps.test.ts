/**
 * Dev servers bound to `localhost` listen on ::1 alone where `localhost` resolves to ::1
 * first (Node ≥ 17 on macOS: Vite, Next…). The mesh finds such an app where it is —
 * plain calls through an inbound listener and straight (`mtls: off`), WebSocket
 * handshakes, supervised health checks — instead of calling it down.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { AppAddresses, findLoopback } from '../src/dataplane/loopback.js';
import { testScope } from './helpers/scope.js';

const scope = testScope();

/** An HTTP server on `host` (and a WebSocket echo on it), closed after the test. */
async function serveOn(host: string, port = 0) {
  const server = http.createServer((req, res) => res.end(`hello from ${host}`));
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket) => socket.on('message', (data) => socket.send(`echo:${data}`)));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const close = () =>
    new Promise<void>((resolve) => {
      wss.close();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  scope.defer(close);
  return { port: (server.address() as AddressInfo).port, close };
}

/**
 * Holds 127.0.0.1:`port` without listening on it: a client socket bound to it, connected
 * to a helper server. Connections to it are refused, and no other server of the suite
 * (tests run in parallel) can take that port on 127.0.0.1 — which the mesh, trying
 * 127.0.0.1 first, would otherwise reach instead of the app on ::1. False when the port
 * is already taken there.
 */
async function holdIpv4(port: number): Promise<boolean> {
  const helper = net.createServer((socket) => socket.on('error', () => {}));
  await new Promise<void>((resolve) => helper.listen(0, '127.0.0.1', resolve));
  const target = (helper.address() as AddressInfo).port;
  const held = await new Promise<net.Socket | undefined>((resolve) => {
    const socket = net.connect({
      host: '127.0.0.1',
      port: target,
      localAddress: '127.0.0.1',
      localPort: port,
    });
    socket.once('connect', () => resolve(socket));
    socket.once('error', () => resolve(undefined));
  });
  scope.defer(async () => {
    held?.destroy();
    await new Promise<void>((resolve) => helper.close(() => resolve()));
  });
  return held !== undefined;
}

/** An app on ::1 alone, its port held on 127.0.0.1 (tries a few ports if one is taken). */
async function appOnIpv6Only() {
  for (let attempt = 0; attempt < 10; attempt++) {
    const app = await serveOn('::1');
    if (await holdIpv4(app.port)) return app;
    await app.close();
  }
  throw new Error('no port free on both ::1 and 127.0.0.1 in 10 tries');
}

const config = (port: number, mtls: string) => `version: 1
mesh: { name: v6, mtls: ${mtls}, ports: { from: 0 }, admin: { port: 0 } }
gateway: { port: 0, routes: [{ path: /, service: web }] }
services:
  web: { port: ${port} }
`;

describe('an app listening on ::1 only', () => {
  it('is reached through its inbound listener and straight, for calls and WebSockets', async () => {
    const app = await appOnIpv6Only();
    for (const mtls of ['strict', 'off']) {
      const m = await scope.mesh(config(app.port, mtls));
      const response = await fetch(`${m.gateway}/page`);
      expect([mtls, response.status, await response.text()]).toEqual([mtls, 200, 'hello from ::1']);
      const socket = new WebSocket(`${m.gateway.replace('http', 'ws')}/ws`);
      const reply = await new Promise<string>((resolve, reject) => {
        socket.on('open', () => socket.send('hi'));
        socket.on('message', (data) => resolve(String(data)));
        socket.on('error', reject);
      });
      socket.close();
      expect(reply).toBe('echo:hi');
    }
  });

  it('an app that moves between 127.0.0.1 and ::1 is found again after one refused call', async () => {
    const v4 = await serveOn('127.0.0.1');
    const m = await scope.mesh(config(v4.port, 'strict'));
    expect(await (await fetch(`${m.gateway}/a`)).text()).toBe('hello from 127.0.0.1');
    await v4.close();
    await serveOn('::1', v4.port);
    // A call refused on 127.0.0.1 makes the next one look again (one more may fail first,
    // if the pool's old connection was not yet seen closed: a reset, not a refusal).
    const statuses: number[] = [];
    let body = '';
    for (let i = 0; i < 3 && body !== 'hello from ::1'; i++) {
      const response = await fetch(`${m.gateway}/b${i}`);
      statuses.push(response.status);
      body = await response.text();
    }
    expect(body).toBe('hello from ::1');
    expect(statuses.slice(0, -1).every((status) => status === 502)).toBe(true);
    expect(statuses.length).toBeLessThanOrEqual(3);
  });
});

describe('AppAddresses', () => {
  it('finds 127.0.0.1 first, then ::1; nothing listening is 127.0.0.1, not remembered', async () => {
    const v6 = await appOnIpv6Only();
    const both = await serveOn('127.0.0.1');
    const addresses = new AppAddresses();
    expect(await addresses.find(v6.port)).toBe('::1');
    expect(addresses.get(v6.port)).toBe('::1');
    expect(await findLoopback(both.port)).toBe('127.0.0.1');
    addresses.forget(v6.port);
    expect(addresses.get(v6.port)).toBeUndefined();
    await v6.close();
    expect(await addresses.find(v6.port)).toBe('127.0.0.1');
    expect(addresses.get(v6.port)).toBeUndefined();
  });

  it('one probe serves the calls waiting for the same port', async () => {
    const v6 = await appOnIpv6Only();
    const addresses = new AppAddresses();
    const [a, b] = [addresses.find(v6.port), addresses.find(v6.port)];
    expect(a).toBe(b);
    expect(await a).toBe('::1');
  });
});
