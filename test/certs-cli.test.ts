import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Agent } from 'undici';
import { echo, startServer } from '../fixtures/servers/upstreams.js';
import { runCli } from './helpers/cli.js';
import { spawnCli } from './helpers/process.js';
import { testScope } from './helpers/scope.js';

const run = promisify(execFile);
const scope = testScope();

const project = (yaml: string) => scope.project(yaml, 'meshdev-certs-');
const running = scope.running;
/** The serial number the listener on `port` presents. */
async function servedSerial(port: number, dir: string): Promise<string> {
  const certs = path.join(dir, '.meshdev/certs');
  const { stdout } = await run('sh', [
    '-c',
    `echo | openssl s_client -connect 127.0.0.1:${port} -cert ${certs}/orders.crt -key ${certs}/orders.key 2>/dev/null | openssl x509 -noout -serial`,
  ]);
  return stdout.trim().replace('serial=', '');
}

describe('meshdev certs', () => {
  it('lists identities; `certs rotate` issues new leaves that the running mesh serves', async () => {
    const api = await startServer(echo('api'));
    scope.defer(() => api.close());
    const dir = project(`version: 1
mesh: { name: certs, ports: { from: 0 }, admin: { port: 0 } }
services:
  orders: { port: 1, upstreams: [api] }
  api: { port: ${api.port} }
`);
    const before = await runCli(['certs'], { cwd: dir });
    expect(before.code).toBe(1);
    expect(before.stderr).toContain('no CA yet');

    const cli = running(spawnCli(['up', '--json'], { cwd: dir }));
    const ready = JSON.parse(await cli.waitForLine(/"event":"ready"/)) as {
      listeners: Array<{ kind: string; service: string; port: number }>;
    };
    const inbound = ready.listeners.find((l) => l.kind === 'inbound' && l.service === 'api')!.port;

    const listed = JSON.parse((await runCli(['certs', '--json'], { cwd: dir })).stdout) as {
      identities: Array<{ name: string; spiffeId: string; serial: string; notAfter: string }>;
    };
    expect(listed.identities.map((i) => i.spiffeId)).toEqual([
      'spiffe://meshdev.local/ns/default/sa/orders',
      'spiffe://meshdev.local/ns/default/sa/api',
      'spiffe://meshdev.local/ns/default/sa/gateway',
    ]);
    const apiBefore = listed.identities.find((i) => i.name === 'api')!.serial;
    expect(await servedSerial(inbound, dir)).toBe(apiBefore);

    expect((await runCli(['certs', 'rotate'], { cwd: dir })).code).toBe(0);
    const rotated = JSON.parse((await runCli(['certs', '--json'], { cwd: dir })).stdout) as {
      identities: Array<{ name: string; serial: string }>;
    };
    const apiAfter = rotated.identities.find((i) => i.name === 'api')!.serial;
    expect(apiAfter).not.toBe(apiBefore);
    // The running mesh notices within its 1 s poll and serves the new leaf.
    const deadline = Date.now() + 15_000;
    let served = '';
    while (Date.now() < deadline && served !== apiAfter) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      served = await servedSerial(inbound, dir);
    }
    expect(served).toBe(apiAfter);

    const ca = await runCli(['certs', 'ca'], { cwd: dir });
    expect(ca.stdout).toBe(readFileSync(path.join(dir, '.meshdev/ca/ca.crt'), 'utf8'));
    expect(ca.stderr).toContain('update-ca-certificates');
    cli.child.kill('SIGINT');
    expect(await cli.exit).toBe(0);
  });

  it('serves the gateway over HTTPS with a certificate the mesh CA vouches for', async () => {
    const api = await startServer(echo('api'));
    scope.defer(() => api.close());
    const dir = project(`version: 1
mesh: { name: edge, ports: { from: 0 }, admin: { port: 0 } }
gateway: { port: 0, tls: true, routes: [{ path: /, service: api }] }
services:
  api: { port: ${api.port} }
`);
    const cli = running(spawnCli(['up', '--json'], { cwd: dir }));
    const ready = JSON.parse(await cli.waitForLine(/"event":"ready"/)) as {
      listeners: Array<{ kind: string; port: number }>;
    };
    const port = ready.listeners.find((l) => l.kind === 'gateway')!.port;
    const ca = readFileSync(path.join(dir, '.meshdev/ca/ca.crt'), 'utf8');
    const dispatcher = new Agent({ connect: { ca } });
    const response = await fetch(`https://localhost:${port}/hello`, {
      dispatcher,
    } as unknown as RequestInit);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { headers: Record<string, string> };
    expect(body.headers['x-forwarded-proto']).toBe('https');
    await dispatcher.close();
  });

  it('adds an HTTPS gateway port in every mtls mode, and says which listener is which', async () => {
    const api = await startServer(echo('api'));
    scope.defer(() => api.close());
    const dir = project(`version: 1
mesh: { name: edge, mtls: off, ports: { from: 0 }, admin: { port: 0 } }
gateway: { port: 0, tls: { port: 0 }, routes: [{ path: /, service: api }] }
services:
  api: { port: ${api.port} }
`);
    const cli = running(spawnCli(['up', '--json'], { cwd: dir }));
    const ready = JSON.parse(await cli.waitForLine(/"event":"ready"/)) as {
      listeners: Array<{ kind: string; port: number; scheme?: string }>;
    };
    const gateways = ready.listeners.filter((l) => l.kind === 'gateway');
    expect(gateways.map((l) => l.scheme).sort()).toEqual(['http', 'https']);
    const https = gateways.find((l) => l.scheme === 'https')!.port;
    const ca = readFileSync(path.join(dir, '.meshdev/ca/ca.crt'), 'utf8');
    const dispatcher = new Agent({ connect: { ca } });
    const response = await fetch(`https://localhost:${https}/hello`, {
      dispatcher,
    } as unknown as RequestInit);
    expect(response.status).toBe(200);
    await dispatcher.close();
  });
});
