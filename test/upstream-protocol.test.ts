/**
 * An app that breaks HTTP/1.1 on its way back — a status line that is not one, headers
 * over 16 KiB, an informational 103 before the answer, a body cut short — written with a
 * raw socket, as no HTTP server library would: the caller gets an answer that names the
 * service and what was wrong, the call record a flag that says who broke it, and the mesh
 * goes on serving. With mTLS on (the answer crosses the inbound listener) and off.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { echo } from '../fixtures/servers/upstreams.js';
import type { TestMesh } from './helpers/mesh.js';
import { testScope } from './helpers/scope.js';

const scope = testScope();

/** What the raw app writes for each path (before closing, unless it says otherwise). */
const ANSWERS: Record<string, string> = {
  '/garbage': 'HELLO THERE\r\n\r\n',
  '/big-head': `HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(20_000)}\r\ncontent-length: 2\r\n\r\nok`,
  '/early-hints':
    'HTTP/1.1 103 Early Hints\r\nlink: </app.css>; rel=preload\r\n\r\n' +
    'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok',
};

/** An app on a raw socket: `/cut-short` promises 100 bytes, sends 10 and closes. */
async function rawApp(): Promise<number> {
  const server = net.createServer((socket) => {
    let head = '';
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const path = head.split(' ')[1] ?? '/';
      head = '';
      if (path === '/cut-short') {
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789');
        setTimeout(() => socket.destroy(), 20);
        return;
      }
      socket.end(ANSWERS[path] ?? 'HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  scope.defer(() => new Promise((resolve) => server.close(resolve)));
  return (server.address() as AddressInfo).port;
}

/** A gateway fronting the raw app as `legacy`, and a well-behaved `live` beside it. */
async function meshFor(mtls: string): Promise<TestMesh> {
  const live = await scope.server(echo('live'));
  return scope.mesh(
    `version: 1
mesh: { name: t, mtls: ${mtls}, ports: { from: 0 }, admin: { port: 0 } }
gateway: { port: 0, routes: [{ path: /live, service: live }, { path: /, service: legacy }] }
services:
  legacy: { port: "\${RAW}" }
  live: { port: "\${LIVE}" }
`,
    { RAW: String(await rawApp()), LIVE: String(live.port) },
  );
}

describe.each(['off', 'strict'])('an app that breaks HTTP (mtls: %s)', (mtls) => {
  it('a status line that is not HTTP answers 502 upstream_protocol_error naming the service, flag UPE', async () => {
    const m = await meshFor(mtls);
    const response = await fetch(`${m.gateway}/garbage`);
    expect(response.status).toBe(502);
    expect(response.headers.get('x-meshdev-error')).toBe('upstream_protocol_error');
    const body = (await response.json()) as { message: string; service: string; flags: string[] };
    expect(body.service).toBe('legacy');
    expect(body.message).toMatch(
      /^legacy answered with something that is not valid HTTP: .*HTTP\//,
    );
    expect(body.flags).toEqual(['UPE']);
    await expect.poll(() => m.calls.length, { timeout: 5_000 }).toBe(1);
    expect(m.calls[0]!.flags).toContain('UPE');
    expect((await fetch(`${m.gateway}/live`)).status).toBe(200);
  });

  it('response headers over 16 KiB answer 502 saying so', async () => {
    const m = await meshFor(mtls);
    const response = await fetch(`${m.gateway}/big-head`);
    expect(response.status).toBe(502);
    const body = (await response.json()) as { message: string };
    expect(body.message).toContain('its headers are over 16 KiB');
  });

  it('103 Early Hints before the answer: the caller gets the answer', async () => {
    const m = await meshFor(mtls);
    const response = await fetch(`${m.gateway}/early-hints`, {
      signal: AbortSignal.timeout(10_000),
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('ok');
    await expect.poll(() => m.calls.length, { timeout: 5_000 }).toBe(1);
    expect(m.calls[0]).toMatchObject({ status: 200, bytesOut: 2, flags: [] });
  });

  it('a body cut short cuts the caller off too, and the record says UC with the bytes sent', async () => {
    const m = await meshFor(mtls);
    const response = await fetch(`${m.gateway}/cut-short`);
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
    await expect.poll(() => m.calls.length, { timeout: 5_000 }).toBe(1);
    expect(m.calls[0]).toMatchObject({ status: 200, bytesOut: 10 });
    expect(m.calls[0]!.flags).toContain('UC');
    expect((await fetch(`${m.gateway}/live`)).status).toBe(200);
  });
});

describe('a caller that leaves mid-body', () => {
  it('is recorded with flag DC and the bytes it was sent', async () => {
    let sent!: () => void;
    const firstChunkSent = new Promise<void>((resolve) => (sent = resolve));
    const slow = await scope.server((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first chunk\n', () => sent());
      // The rest never comes: the caller gives up first.
    });
    const m = await scope.mesh(
      `version: 1
mesh: { name: t, mtls: off, ports: { from: 0 }, admin: { port: 0 } }
gateway: { port: 0, routes: [{ path: /, service: slow }] }
services:
  slow: { port: "\${P}" }
`,
      { P: String(slow.port) },
    );
    const leaving = new AbortController();
    const response = await fetch(`${m.gateway}/stream`, { signal: leaving.signal });
    const reader = response.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('first chunk\n');
    await firstChunkSent;
    leaving.abort();
    await expect.poll(() => m.calls.length, { timeout: 5_000 }).toBe(1);
    expect(m.calls[0]).toMatchObject({ status: 200, bytesOut: 12 });
    expect(m.calls[0]!.flags).toContain('DC');
  });
});
