/**
 * The hop pool reuses a connected idle client before connecting one whose connection a cut
 * call closed, and makes no new client while an idle one is left. Real sockets: a server
 * that holds each response until the test lets it go, and counts the connections it gets.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Dispatcher } from 'undici';
import { HopPool } from './hop-pool.js';

/**
 * A server holding every response until `release()`; it counts connections (and closed
 * ones). `release(closing)` answers the calls on the first `closing` connections it got
 * with `Connection: close`.
 */
async function holdingServer() {
  const held: http.ServerResponse[] = [];
  const order = new Map<import('node:net').Socket, number>();
  const arrivals: Array<() => void> = [];
  let connections = 0;
  let closed = 0;
  const server = http.createServer((_req, res) => {
    held.push(res);
    for (const wake of arrivals.splice(0)) wake();
  });
  server.on('connection', (socket) => {
    order.set(socket, connections);
    connections++;
    socket.on('close', () => closed++);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    closed: () => closed,
    /** Resolves once `count` requests are held. */
    async holding(count: number): Promise<void> {
      while (held.length < count) await new Promise<void>((wake) => arrivals.push(wake));
    },
    /** Answers every held request. */
    release(closing = 0): void {
      for (const res of held.splice(0)) {
        if (order.get(res.socket!)! < closing) res.setHeader('connection', 'close');
        res.end('ok');
      }
    },
    /** Forgets held requests whose caller went away. */
    dropCut(): void {
      const open = held.filter((res) => !res.destroyed && !res.socket?.destroyed);
      held.splice(0, held.length, ...open);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Lets undici finish what it does after a response (a client is free again one turn of the
 * event loop after its response ends) and after a cut (its socket closes).
 */
async function turns(until: () => boolean = () => true): Promise<void> {
  for (let i = 0; i < 500; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    if (until()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the condition never held');
}

/** One call on `pool`; `cut()` makes its caller leave before the answer. */
function call(pool: HopPool): { done: Promise<string>; cut: () => void } {
  let controller: Dispatcher.DispatchController | undefined;
  let body = '';
  const done = new Promise<string>((resolve) => {
    pool.dispatch(
      { method: 'GET', path: '/', headersTimeout: 0, bodyTimeout: 0 },
      {
        onRequestStart: (c) => (controller = c),
        onResponseStart: () => {},
        onResponseData: (_c, chunk: Buffer) => void (body += chunk.toString()),
        onResponseEnd: () => resolve(body),
        onResponseError: (_c, error: Error) => resolve(`error: ${error.message}`),
      },
    );
  });
  return { done, cut: () => controller?.abort(new Error('cut')) };
}

type Server = Awaited<ReturnType<typeof holdingServer>>;

/** `count` calls at once on `pool`, answered once all have arrived. */
async function concurrent(pool: HopPool, server: Server, count: number): Promise<string[]> {
  const calls = Array.from({ length: count }, () => call(pool).done);
  await server.holding(count);
  server.release();
  const answers = await Promise.all(calls);
  await turns();
  return answers;
}

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.splice(0)) await close();
});

describe('HopPool', () => {
  const options = { keepAliveTimeout: 60_000, keepAliveMaxTimeout: 60_000, pipelining: 1 };

  it('gives a call a connected idle client before one whose connection closed', async () => {
    const server = await holdingServer();
    const pool = new HopPool(`http://127.0.0.1:${server.port}`, options);
    cleanup = [() => pool.destroy(), () => server.close()];

    // Four calls at once: four clients, four connections; the first two made are closed
    // by the server as it answers (undici's own Pool would reconnect those two next).
    const first = Array.from({ length: 4 }, () => call(pool).done);
    await server.holding(4);
    server.release(2);
    expect(await Promise.all(first)).toEqual(['ok', 'ok', 'ok', 'ok']);
    await turns(() => server.closed() === 2);
    expect([pool.size, server.connections()]).toEqual([4, 4]);

    // Two calls at once: the two open connections carry them.
    expect(await concurrent(pool, server, 2)).toEqual(['ok', 'ok']);
    expect([pool.size, server.connections()]).toEqual([4, 4]);

    // Four at once: the two closed clients connect again; no client is made.
    expect(await concurrent(pool, server, 4)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect([pool.size, server.connections()]).toEqual([4, 6]);

    // Five at once: one client more, one connection more.
    expect(await concurrent(pool, server, 5)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect([pool.size, server.connections()]).toEqual([5, 7]);
  });

  it('drops the client of a cut call instead of connecting it again for nothing', async () => {
    const server = await holdingServer();
    const pool = new HopPool(`http://127.0.0.1:${server.port}`, options);
    cleanup = [() => pool.destroy(), () => server.close()];
    expect(await concurrent(pool, server, 4)).toEqual(['ok', 'ok', 'ok', 'ok']);

    // Two calls cut mid-way (the caller left): their connections close, and stay closed
    // (undici#5845: undici's client connects again at once, for the aborted call).
    const cut = [call(pool), call(pool)];
    await server.holding(2);
    for (const c of cut) c.cut();
    expect(await Promise.all(cut.map((c) => c.done))).toEqual(['error: cut', 'error: cut']);
    await turns(() => server.closed() === 2);
    server.dropCut();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect([pool.size, server.connections()]).toEqual([2, 4]);

    // Four at once: the two connections left, and two new clients.
    expect(await concurrent(pool, server, 4)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect([pool.size, server.connections()]).toEqual([4, 6]);
  });

  it('drops a client that could not connect', async () => {
    const server = await holdingServer();
    const port = server.port;
    await server.close();
    const pool = new HopPool(`http://127.0.0.1:${port}`, options);
    cleanup = [() => pool.destroy()];
    expect(await call(pool).done).toMatch(/^error: .*ECONNREFUSED/);
    expect(pool.size).toBe(0);
  });
});
