import { mkdtempSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Pool } from 'undici';
import { echo } from '../fixtures/servers/upstreams.js';
import { loadConfigFile } from '../src/config/load.js';
import { MeshController } from '../src/controlplane/controller.js';
import { runCli } from './helpers/cli.js';
import { spawnCli, type RunningCli } from './helpers/process.js';
import { testScope } from './helpers/scope.js';

const scope = testScope();
const server = scope.server;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const yaml = (v1: number, v2: number, split = 'v1: 100, v2: 0') => `version: 1
mesh: { name: cp, ports: { from: 0 }, admin: { port: 0 } }
gateway: { port: 0, routes: [{ path: /, service: pay }] }
services:
  pay:
    versions: { v1: { port: ${v1} }, v2: { port: ${v2} } }
    routes:
      - split: { ${split} }
`;

async function controller(text: string) {
  const dir = mkdtempSync(path.join(tmpdir(), 'meshdev-cp-'));
  const file = path.join(dir, 'mesh.config.yaml');
  writeFileSync(file, text);
  const started = await MeshController.start(loadConfigFile(file), { ephemeralPorts: true });
  scope.defer(() => started.stop(500));
  const token = readFileSync(path.join(dir, '.meshdev/admin-token'), 'utf8').trim();
  const admin = `http://127.0.0.1:${started.adminPort}`;
  const gateway = () => `http://127.0.0.1:${started.mesh.gatewayPort()}`;
  return { dir, file, controller: started, token, admin, gateway };
}

function raw(url: string, headers: Record<string, string>, method = 'GET'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('admin API', () => {
  it('guards mutations with the token and refuses foreign Hosts and browser Origins', async () => {
    const v1 = await server(echo('v1'));
    const v2 = await server(echo('v2'));
    const m = await controller(yaml(v1.port, v2.port));
    expect(statSync(path.join(m.dir, '.meshdev/admin-token')).mode & 0o777).toBe(0o600);
    const state = JSON.parse(readFileSync(path.join(m.dir, '.meshdev/state.json'), 'utf8')) as {
      pid: number;
      adminPort: number;
    };
    expect(state).toMatchObject({ pid: process.pid, adminPort: m.controller.adminPort });

    const fault = JSON.stringify({ service: 'pay', abort: { status: 503 } });
    const post = (headers: Record<string, string>) =>
      fetch(`${m.admin}/v1/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: fault,
      });
    expect((await post({})).status).toBe(401);
    expect((await post({ authorization: 'Bearer wrong' })).status).toBe(401);
    expect(await raw(`${m.admin}/v1/state`, { host: 'evil.example:80' })).toBe(403);
    expect(await raw(`${m.admin}/v1/state`, { origin: 'http://localhost:5173' })).toBe(403);
    expect((await fetch(`${m.admin}/v1/state`)).status).toBe(200);
    expect((await post({ authorization: `Bearer ${m.token}` })).status).toBe(201);
  });

  it('runtime faults and splits change the next request and show in /v1/state with their source', async () => {
    const v1 = await server(echo('v1'));
    const v2 = await server(echo('v2'));
    const m = await controller(yaml(v1.port, v2.port));
    const auth = { authorization: `Bearer ${m.token}`, 'content-type': 'application/json' };
    const added = (await (
      await fetch(`${m.admin}/v1/faults`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ service: 'pay', abort: { status: 418 } }),
      })
    ).json()) as { id: string };
    expect((await fetch(`${m.gateway()}/x`)).status).toBe(418);
    const state = (await (await fetch(`${m.admin}/v1/state`)).json()) as {
      services: Array<{ faults: Array<{ id: string; source: string }> }>;
    };
    expect(state.services[0]!.faults).toEqual([
      expect.objectContaining({ id: added.id, source: 'runtime' }),
    ]);
    expect(
      (await fetch(`${m.admin}/v1/faults/${added.id}`, { method: 'DELETE', headers: auth })).status,
    ).toBe(200);
    expect((await fetch(`${m.gateway()}/x`)).status).toBe(200);

    const split = await fetch(`${m.admin}/v1/services/pay/split`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({ weights: { v1: 0, v2: 100 } }),
    });
    expect(await split.json()).toEqual({ weights: { v1: 0, v2: 100 }, source: 'runtime' });
    expect((await fetch(`${m.gateway()}/x`)).headers.get('x-served-by')).toBe('v2');
    const bad = await fetch(`${m.admin}/v1/services/pay/split`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({ weights: { v1: 10, v3: 90 } }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toContain('no version "v3"');
  });

  it('/metrics counts known traffic per Istio label set', async () => {
    const v1 = await server(echo('v1'));
    const v2 = await server(echo('v2'));
    const m = await controller(yaml(v1.port, v2.port));
    for (let i = 0; i < 3; i++) await fetch(`${m.gateway()}/ok`);
    m.controller.mesh.runtime.addFault({ service: 'pay', abort: { status: 503, percent: 100 } });
    for (let i = 0; i < 2; i++) await fetch(`${m.gateway()}/fail`);
    const text = await (await fetch(`${m.admin}/metrics`)).text();
    expect(text).toContain(
      'meshdev_requests_total{source_workload="gateway",destination_service_name="pay",destination_version="v1",response_code="200",response_flags="-",connection_security_policy="mutual_tls"} 3',
    );
    expect(text).toMatch(
      /meshdev_requests_total\{source_workload="gateway",destination_service_name="pay",destination_version="v\d",response_code="503",response_flags="FI",connection_security_policy="none"\} 2/,
    );
    expect(text).toMatch(
      /meshdev_request_duration_milliseconds_count\{[^}]*response_code="200"[^}]*\} 3/,
    );
    expect(text).toContain(
      'meshdev_faults_active{destination_service_name="pay",source="runtime"} 1',
    );
  });

  it('streams calls as server-sent events, filtered by service and status', async () => {
    const v1 = await server(echo('v1'));
    const v2 = await server(echo('v2'));
    const m = await controller(yaml(v1.port, v2.port));
    const response = await fetch(`${m.admin}/v1/calls?status=2xx`);
    const reader = response.body!.getReader();
    await reader.read(); // the opening comment
    await fetch(`${m.gateway()}/streamed`);
    const { value } = await reader.read();
    const text = new TextDecoder().decode(value);
    expect(text).toMatch(/^event: call\ndata: \{.*"path":"\/streamed".*\}\n\n$/);
    await reader.cancel();
  });
});

describe('hot reload', () => {
  it('applies a split edit, keeps serving through a broken save and reports where it broke', async () => {
    const v1 = await server(echo('v1'));
    const v2 = await server(echo('v2'));
    const m = await controller(yaml(v1.port, v2.port));
    const statuses: string[] = [];
    m.controller.bus.on('config', (status) => statuses.push(`${status.status}: ${status.message}`));
    expect((await fetch(`${m.gateway()}/x`)).headers.get('x-served-by')).toBe('v1');

    writeFileSync(m.file, yaml(v1.port, v2.port, 'v1: 0, v2: 100'));
    await waitFor(() => statuses.length === 1);
    expect(statuses[0]).toBe('reloaded: applied in place');
    expect((await fetch(`${m.gateway()}/x`)).headers.get('x-served-by')).toBe('v2');

    writeFileSync(m.file, yaml(v1.port, v2.port, 'v1: 10, v2: 10'));
    await waitFor(() => statuses.length === 2);
    expect(statuses[1]).toMatch(
      /^invalid: .*mesh\.config\.yaml:8:16 services\.pay\.routes\[0\]\.split: split weights sum to 20, not 100/,
    );
    expect((await fetch(`${m.gateway()}/x`)).headers.get('x-served-by')).toBe('v2');
  });

  it('an allow change applies to the next call without a restart', async () => {
    const v1 = await server(echo('v1'));
    const v2 = await server(echo('v2'));
    const m = await controller(yaml(v1.port, v2.port));
    expect((await fetch(`${m.gateway()}/x`)).status).toBe(200);
    writeFileSync(
      m.file,
      `${yaml(v1.port, v2.port)}    allow: [{ from: gateway, methods: [POST] }]\n`,
    );
    await waitFor(async () => (await fetch(`${m.gateway()}/x`)).status === 403);
    expect((await fetch(`${m.gateway()}/x`, { method: 'POST' })).status).toBe(200);
  });

  it('watches the files the config points at (an OpenAPI spec) too', async () => {
    const v1 = await server(echo('v1'));
    const v2 = await server(echo('v2'));
    const dir = mkdtempSync(path.join(tmpdir(), 'meshdev-spec-'));
    const spec = (title: string) =>
      `openapi: 3.1.0\ninfo: { title: ${title}, version: "1" }\npaths:\n  /x: { get: { responses: { "200": { description: ok } } } }\n`;
    writeFileSync(path.join(dir, 'pay.yaml'), spec('pay'));
    const m = await controller(
      `${yaml(v1.port, v2.port)}    spec: ${path.join(dir, 'pay.yaml')}\n`,
    );
    const statuses: string[] = [];
    m.controller.bus.on('config', (status) => statuses.push(status.message));
    writeFileSync(path.join(dir, 'pay.yaml'), spec('payments'));
    await waitFor(() => statuses.length === 1);
    expect(statuses[0]).toBe('a file the config points at changed');
  });

  it('ten saves within 100 ms make one reload, and a rename-style save is seen', async () => {
    const v1 = await server(echo('v1'));
    const v2 = await server(echo('v2'));
    const m = await controller(yaml(v1.port, v2.port));
    let reloads = 0;
    m.controller.bus.on('config', () => reloads++);
    for (let i = 0; i < 10; i++) {
      writeFileSync(m.file, yaml(v1.port, v2.port, `v1: ${i * 10}, v2: ${100 - i * 10}`));
      await sleep(8);
    }
    await sleep(600);
    expect(reloads).toBe(1);

    // Editors save by writing a new file and renaming it over the old one.
    const temp = path.join(m.dir, '.mesh.config.yaml.swp');
    writeFileSync(temp, yaml(v1.port, v2.port, 'v1: 100, v2: 0'));
    renameSync(temp, m.file);
    await waitFor(() => reloads === 2);
    expect((await fetch(`${m.gateway()}/x`)).headers.get('x-served-by')).toBe('v1');
  });

  it('a change of shape restarts only the listeners that changed; the others keep their connections', async () => {
    const v1 = await server(echo('v1'));
    const v2 = await server(echo('v2'));
    const extra = await server(echo('extra'));
    const text = (withExtra: boolean) => `version: 1
mesh: { name: cp, ports: { from: 0 }, admin: { port: 0 } }
gateway: { port: 0, routes: [{ path: /, service: pay }${withExtra ? ', { path: /extra, service: extra }' : ''}] }
services:
  caller: { port: 1, upstreams: [pay] }
  pay:
    versions: { v1: { port: ${v1.port} }, v2: { port: ${v2.port} } }
    routes: [{ split: { v1: 100, v2: 0 } }]
${withExtra ? `  extra: { port: ${extra.port} }\n` : ''}`;
    const m = await controller(text(false));
    const statuses: string[] = [];
    m.controller.bus.on('config', (status) => statuses.push(status.message));
    // A keep-alive connection to an outbound listener the change does not touch.
    const outbound = `http://127.0.0.1:${m.controller.mesh.outboundPort('caller', 'pay')}`;
    const pool = new Pool(outbound, { connections: 1 });
    let connects = 0;
    pool.on('connect', () => connects++);
    const first = await pool.request({ method: 'GET', path: '/a' });
    await first.body.dump();
    expect(first.statusCode).toBe(200);

    writeFileSync(m.file, text(true));
    await waitFor(() => statuses.length === 1);
    expect(statuses[0]).toBe('listeners changed: gateway, inbound extra');
    expect((await fetch(`${m.gateway()}/extra`)).headers.get('x-served-by')).toBe('extra');
    const again = await pool.request({ method: 'GET', path: '/b' });
    await again.body.dump();
    expect(again.statusCode).toBe(200);
    expect(connects).toBe(1);
    await pool.close();
  });
});

async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(25);
  }
}

describe('runtime CLI', () => {
  let cli: RunningCli | undefined;
  afterEach(async () => {
    if (cli && cli.child.exitCode === null) cli.child.kill('SIGKILL');
    await cli?.exit;
    cli = undefined;
  });

  it('says clearly when no mesh is running', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'meshdev-none-'));
    writeFileSync(path.join(dir, 'mesh.config.yaml'), yaml(1, 2));
    const result = await runCli(['status'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `no mesh is running for ${dir} — start one with \`meshdev up\``,
    );
  });

  it('fault add --for adds an expiring fault; rm removes it; split and status show runtime overlays', async () => {
    const v1 = await server(echo('v1'));
    const v2 = await server(echo('v2'));
    const dir = mkdtempSync(path.join(tmpdir(), 'meshdev-rt-'));
    // A second service with a longer name: `status` lines its services up as a table.
    writeFileSync(
      path.join(dir, 'mesh.config.yaml'),
      `${yaml(v1.port, v2.port)}  billing-ledger: { port: 1 }\n`,
    );
    cli = spawnCli(['up', '--json', '--quiet'], { cwd: dir });
    const ready = JSON.parse(await cli.waitForLine(/"event":"ready"/)) as {
      listeners: Array<{ kind: string; port: number }>;
    };
    const gateway = `http://127.0.0.1:${ready.listeners.find((l) => l.kind === 'gateway')!.port}`;

    // Expiry itself is tested with a manual clock (runtime.test.ts): here, a lifetime no
    // spawned CLI can outlast on a slow machine.
    const added = await runCli(
      ['fault', 'add', 'pay', '--abort', '503', '--percent', '100', '--for', '10m'],
      { cwd: dir },
    );
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(/^added fault rt-1 on pay until \d\d:\d\d:\d\d\n$/);
    expect((await fetch(`${gateway}/x`)).status).toBe(503);
    expect((await runCli(['fault', 'ls'], { cwd: dir })).stdout).toMatch(
      /rt-1 {2}pay {2}abort 503 100% expires .* \(runtime\)/,
    );
    expect((await runCli(['fault', 'rm', 'rt-1'], { cwd: dir })).stdout).toBe('removed rt-1\n');
    expect((await fetch(`${gateway}/x`)).status).toBe(200);
    expect((await runCli(['fault', 'ls'], { cwd: dir })).stdout).toBe('no faults in force\n');

    const recent = await runCli(['calls', '--json', '--status', '5xx'], { cwd: dir });
    const calls = recent.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { status: number; flags: string[] });
    expect(calls.length).toBeGreaterThanOrEqual(1);
    expect(calls.every((call) => call.status === 503 && call.flags.includes('FI'))).toBe(true);

    expect((await runCli(['split', 'pay', 'v1=0', 'v2=100'], { cwd: dir })).code).toBe(0);
    expect((await fetch(`${gateway}/x`)).headers.get('x-served-by')).toBe('v2');
    const status = await runCli(['status'], { cwd: dir });
    expect(status.stdout).toContain('split v1=0 v2=100 (runtime)');
    const serviceLines = status.stdout.split('\n').filter((line) => line.includes(' versions '));
    expect(serviceLines.map((line) => line.trim().split(/ +/)[0])).toEqual([
      'pay',
      'billing-ledger',
    ]);
    expect(serviceLines.map((line) => line.indexOf(' versions '))).toEqual([17, 17]);
    const wrong = await runCli(['split', 'pay', 'v1=50', 'v2=40'], { cwd: dir });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('split weights sum to 90, not 100');
    cli.child.kill('SIGINT');
    expect(await cli.exit).toBe(0);
  });

  it('route add sends matching calls to a version live; ls, status, rm and clear', async () => {
    const v1 = await server(echo('v1'));
    const v2 = await server(echo('v2'));
    const dir = mkdtempSync(path.join(tmpdir(), 'meshdev-route-'));
    writeFileSync(path.join(dir, 'mesh.config.yaml'), yaml(v1.port, v2.port));
    cli = spawnCli(['up', '--json', '--quiet'], { cwd: dir });
    const ready = JSON.parse(await cli.waitForLine(/"event":"ready"/)) as {
      listeners: Array<{ kind: string; port: number }>;
    };
    const gateway = `http://127.0.0.1:${ready.listeners.find((l) => l.kind === 'gateway')!.port}`;
    const servedBy = async (user?: string) =>
      (await fetch(`${gateway}/x`, { headers: user ? { 'end-user': user } : {} })).headers.get(
        'x-served-by',
      );
    expect(await servedBy('jason')).toBe('v1'); // the file's split: v1 100

    const added = await runCli(
      ['route', 'add', 'pay', '--header', 'end-user=jason', '--to', 'v2'],
      {
        cwd: dir,
      },
    );
    expect(added.stdout).toBe('added route rr-1 on pay: end-user=jason → v2\n');
    expect(await servedBy('jason')).toBe('v2');
    expect(await servedBy('kim')).toBe('v1');
    expect(await servedBy()).toBe('v1');
    expect((await runCli(['route', 'ls'], { cwd: dir })).stdout).toBe(
      'rr-1  pay  end-user=jason → v2\n',
    );
    expect((await runCli(['status'], { cwd: dir })).stdout).toContain(
      'route rr-1 (runtime)  end-user=jason → v2',
    );
    const wrong = await runCli(['route', 'add', 'pay', '--to', 'v9'], { cwd: dir });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('pay has no version "v9" (versions: v1, v2)');
    const both = await runCli(['route', 'add', 'pay'], { cwd: dir });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('say where matching calls go');

    expect((await runCli(['route', 'rm', 'rr-1'], { cwd: dir })).stdout).toBe('removed rr-1\n');
    expect(await servedBy('jason')).toBe('v1');
    await runCli(['route', 'add', 'pay', '--path', '/x', '--split', 'v1=0,v2=100'], { cwd: dir });
    expect(await servedBy()).toBe('v2');
    expect((await runCli(['route', 'clear'], { cwd: dir })).stdout).toBe(
      'removed 1 runtime route\n',
    );
    expect((await runCli(['route', 'ls'], { cwd: dir })).stdout).toBe('no runtime routes\n');
    cli.child.kill('SIGINT');
    expect(await cli.exit).toBe(0);
  });
});
