/**
 * Traffic mirroring (Istio's mirroring task on real sockets): a route with `mirror` sends a
 * copy of each call to another version — `Host` with `-shadow`, the same method, path and
 * body — answers the caller from the routed version alone, records the copy as a call of
 * its own, and survives a mirror that is down. Seeded, so the sampled share is exact run
 * to run.
 */
import { describe, expect, it } from 'vitest';
import { deadPort, echo } from '../fixtures/servers/upstreams.js';
import { runCli } from './helpers/cli.js';
import { spawnCli } from './helpers/process.js';
import { testScope } from './helpers/scope.js';
import { waitFor } from './helpers/wait.js';

const scope = testScope();

/** An echo server that also keeps what each request looked like. */
async function recordingEcho(name: string) {
  const seen: Array<{ method: string; url: string; host: string; body: string }> = [];
  const reply = echo(name);
  const server = await scope.server((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () =>
      seen.push({
        method: req.method!,
        url: req.url!,
        host: req.headers.host!,
        body: Buffer.concat(chunks).toString(),
      }),
    );
    reply(req, res);
  });
  return { port: server.port, seen };
}

const config = (v1: number, v2: number, mirror: string) => `version: 1
mesh: { name: mirror, seed: 7, ports: { from: 0 }, admin: { port: 0 } }
gateway: { port: 0, routes: [{ path: /, service: httpbin }] }
services:
  httpbin:
    versions: { v1: { port: ${v1} }, v2: { port: ${v2} } }
    routes:
      - { to: v1, mirror: ${mirror} }
`;

describe('a route mirror', () => {
  it('copies each call to the mirror version with a -shadow Host; the caller gets v1’s answer', async () => {
    const v1 = await recordingEcho('v1');
    const v2 = await recordingEcho('v2');
    const m = await scope.mesh(config(v1.port, v2.port, '{ to: v2 }'));
    const host = new URL(m.gateway).host;
    const get = await fetch(`${m.gateway}/headers?x=1`);
    expect((await get.json()) as { name: string }).toMatchObject({ name: 'v1' });
    const post = await fetch(`${m.gateway}/post`, { method: 'POST', body: 'hello' });
    expect(post.headers.get('x-served-by')).toBe('v1');
    await waitFor(() => v2.seen.length === 2 && m.calls.length === 4);
    expect(v1.seen.map((r) => r.host)).toEqual([host, host]);
    const [hostname, port] = host.split(':');
    expect(v2.seen).toEqual([
      { method: 'GET', url: '/headers?x=1', host: `${hostname}-shadow:${port}`, body: '' },
      { method: 'POST', url: '/post', host: `${hostname}-shadow:${port}`, body: 'hello' },
    ]);
    const mirrored = m.calls.filter((call) => call.mirror);
    expect(mirrored.map((call) => [call.version, call.method, call.status, call.caller])).toEqual([
      ['v2', 'GET', 200, 'gateway'],
      ['v2', 'POST', 200, 'gateway'],
    ]);
    // Each copy is in the trace of the call it copies.
    const primary = m.calls.filter((call) => !call.mirror);
    expect(mirrored.map((call) => call.traceId).sort()).toEqual(
      primary.map((call) => call.traceId).sort(),
    );
  });

  it('a mirror that is down costs the caller nothing: the copy is recorded 502 UF', async () => {
    const v1 = await recordingEcho('v1');
    const m = await scope.mesh(config(v1.port, await deadPort(), '{ to: v2 }'));
    const response = await fetch(`${m.gateway}/anything`);
    expect(response.status).toBe(200);
    await waitFor(() => m.calls.length === 2);
    const copy = m.calls.find((call) => call.mirror)!;
    // Its inbound listener answered for the dead app, as it would for a call.
    expect([copy.version, copy.status, copy.flags]).toEqual(['v2', 502, ['UF']]);
    expect(m.calls.find((call) => !call.mirror)!.flags).toEqual([]);
  });

  it('a mirror slower than the call does not slow the call down', async () => {
    const v1 = await recordingEcho('v1');
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const slow = await scope.server((req, res) => {
      req.resume();
      void held.then(() => res.end('late'));
    });
    const m = await scope.mesh(config(v1.port, slow.port, '{ to: v2 }'));
    const response = await fetch(`${m.gateway}/x`);
    expect(response.status).toBe(200);
    // The call is recorded while the copy is still waiting for v2.
    await waitFor(() => m.calls.length === 1);
    expect(m.calls[0]!.mirror).toBeUndefined();
    release();
    await waitFor(() => m.calls.length === 2);
    expect(m.calls[1]).toMatchObject({ mirror: true, status: 200, bytesOut: 4 });
  });

  it('percent samples the calls (seeded), and a body too large to buffer is not copied', async () => {
    const v1 = await recordingEcho('v1');
    const v2 = await recordingEcho('v2');
    const m = await scope.mesh(config(v1.port, v2.port, '{ to: v2, percent: 25 }'));
    for (let i = 0; i < 200; i++) {
      const response = await fetch(`${m.gateway}/n/${i}`);
      await response.arrayBuffer();
    }
    await waitFor(() => m.calls.length === 200 + v2.seen.length && v2.seen.length > 0);
    // 25 % of 200 is 50: the seeded draw gives a share near it, the same on every run.
    expect(v2.seen.length).toBeGreaterThan(35);
    expect(v2.seen.length).toBeLessThan(65);

    const all = await scope.mesh(config(v1.port, v2.port, '{ to: v2 }'));
    const before = v2.seen.length;
    const big = await fetch(`${all.gateway}/upload`, {
      method: 'POST',
      body: Buffer.alloc(200 * 1024, 1),
    });
    expect(big.status).toBe(200);
    await fetch(`${all.gateway}/small`, { method: 'POST', body: 'x' });
    await waitFor(() => v2.seen.length === before + 1);
    expect(v2.seen.at(-1)!.url).toBe('/small');
  });

  it('meshdev route add --mirror copies calls live; a version that does not exist is refused', async () => {
    const v1 = await recordingEcho('v1');
    const v2 = await recordingEcho('v2');
    const dir = scope.project(`version: 1
mesh: { name: live, ports: { from: 0 }, admin: { port: 0 } }
gateway: { port: 0, routes: [{ path: /, service: httpbin }] }
services:
  httpbin:
    versions: { v1: { port: ${v1.port} }, v2: { port: ${v2.port} } }
`);
    const cli = scope.running(spawnCli(['up', '--json', '--quiet'], { cwd: dir }));
    const ready = JSON.parse(await cli.waitForLine(/"event":"ready"/)) as {
      listeners: Array<{ kind: string; port: number }>;
    };
    const gateway = `http://127.0.0.1:${ready.listeners.find((l) => l.kind === 'gateway')!.port}`;
    const added = await runCli(['route', 'add', 'httpbin', '--to', 'v1', '--mirror', 'v2'], {
      cwd: dir,
    });
    expect(added.stdout).toBe('added route rr-1 on httpbin: every call → v1, mirror v2 100%\n');
    expect((await fetch(`${gateway}/live`)).headers.get('x-served-by')).toBe('v1');
    await waitFor(() => v2.seen.length === 1);
    expect(v2.seen[0]!.url).toBe('/live');
    const unknown = await runCli(['route', 'add', 'httpbin', '--to', 'v1', '--mirror', 'v9'], {
      cwd: dir,
    });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('httpbin has no version "v9" (versions: v1, v2)');
    const share = await runCli(
      ['route', 'add', 'httpbin', '--to', 'v1', '--mirror', 'v2', '--mirror-percent', 'half'],
      { cwd: dir },
    );
    expect(share.code).toBe(2);
    expect(share.stderr).toContain('--mirror-percent half is not a number');
  });
});
