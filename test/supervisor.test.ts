import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deadPort, echo, startServer } from '../fixtures/servers/upstreams.js';
import { loadConfigFile } from '../src/config/load.js';
import { MeshController } from '../src/controlplane/controller.js';
import { runCli } from './helpers/cli.js';
import { spawnCli } from './helpers/process.js';
import { testScope } from './helpers/scope.js';

const APP = path.resolve('fixtures/servers/app.mjs');
const scope = testScope();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function project(yaml: string): { dir: string; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'meshdev-sup-'));
  const file = path.join(dir, 'mesh.config.yaml');
  writeFileSync(file, yaml);
  return { dir, file };
}

async function start(yaml: string) {
  const { dir, file } = project(yaml);
  const controller = await MeshController.start(loadConfigFile(file), {
    ephemeralPorts: true,
    watch: false,
    supervisor: { baseBackoffMs: 50, maxBackoffMs: 200, crashLoopAfter: 3, killAfterMs: 2000 },
  });
  scope.defer(() => controller.stop(500));
  const states: string[] = [];
  controller.bus.on('process', (event) => states.push(`${event.instance}:${event.state}`));
  return {
    dir,
    controller,
    states,
    gateway: () => `http://127.0.0.1:${controller.mesh.gatewayPort()}`,
  };
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(50);
  }
}

/** Processes whose command line contains `marker`. */
function processesWith(marker: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return out.split('\n').filter((line) => line.includes(marker) && !line.includes('ps -eo'));
}

describe('supervised services', () => {
  it('start with their env, have their output captured, and get 503 UH until healthy', async () => {
    const other = await startServer(echo('other'));
    scope.defer(() => other.close());
    const port = await deadPort();
    const m = await start(`version: 1
mesh: { name: sup, mtls: off, ports: { from: 0 }, admin: { port: 0 } }
gateway: { port: 0, routes: [{ path: /, service: api }] }
services:
  api:
    command: node ${APP}
    port: ${port}
    env: { EXTRA: yes }
    health: { path: /health, interval: 100ms }
    upstreams: [my-other]
  my-other: { port: ${other.port} }
`);
    const early = await fetch(`${m.gateway()}/env`);
    if (early.status === 503)
      expect(await early.json()).toMatchObject({ error: 'unhealthy', flags: ['UH'] });
    await until(() => m.states.includes('api:up'));
    const env = (await (await fetch(`${m.gateway()}/env`)).json()) as Record<string, string>;
    expect(env).toMatchObject({ PORT: String(port), MESH_SERVICE: 'api', EXTRA: 'yes' });
    expect(env.MY_OTHER_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(env.MESH_VERSION).toBeUndefined();
    const log = readFileSync(path.join(m.dir, '.meshdev/logs/api.log'), 'utf8');
    expect(log).toContain(`app api listening on ${port}`);
  });

  it('a service that listens on ::1 alone comes up, by HTTP health check or by port', async () => {
    const [checked, bare] = [await deadPort(), await deadPort()];
    const m = await start(`version: 1
mesh: { name: v6, ports: { from: 0 }, admin: { port: 0 } }
gateway: { port: 0, routes: [{ path: /checked, service: checked }, { path: /, service: bare }] }
services:
  checked:
    command: node ${APP}
    port: ${checked}
    env: { HOST: "::1" }
    health: { path: /health, interval: 100ms }
  bare:
    command: node ${APP}
    port: ${bare}
    env: { HOST: "::1" }
`);
    await until(() => m.states.includes('checked:up') && m.states.includes('bare:up'), 20_000);
    for (const path of ['/checked/x', '/y']) {
      const response = await fetch(`${m.gateway()}${path}`);
      expect([path, response.status, await response.text()]).toEqual([path, 200, 'ok']);
    }
  });

  it('restarts a service killed with SIGKILL', async () => {
    const port = await deadPort();
    const m = await start(`version: 1
mesh: { name: sup, mtls: off, ports: { from: 0 }, admin: { port: 0 } }
gateway: { port: 0, routes: [{ path: /, service: api }] }
services:
  api: { command: node ${APP}, port: ${port}, health: { interval: 100ms } }
`);
    await until(() => m.states.includes('api:up'));
    const pid = Number(await (await fetch(`${m.gateway()}/pid`)).text());
    process.kill(pid, 'SIGKILL');
    await until(() => m.states.includes('api:crashed'));
    await until(() => m.states.filter((s) => s === 'api:up').length === 2);
    const again = Number(await (await fetch(`${m.gateway()}/pid`)).text());
    expect(again).not.toBe(pid);
  });

  it('a command that keeps crashing ends in crash-loop with its last output, and calls get 503 UH', async () => {
    const port = await deadPort();
    const m = await start(`version: 1
mesh: { name: sup, mtls: off, ports: { from: 0 }, admin: { port: 0 } }
gateway: { port: 0, routes: [{ path: /, service: api }] }
services:
  api: { command: "echo boom-before-exit; exit 3", port: ${port} }
`);
    const messages: string[] = [];
    m.controller.bus.on('process', (event) => messages.push(event.message));
    await until(() => m.states.includes('api:crash-loop'));
    expect(
      messages.some(
        (message) => message.includes('exited with code 3') && message.includes('boom-before-exit'),
      ),
    ).toBe(true);
    const response = await fetch(`${m.gateway()}/`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: 'unhealthy', flags: ['UH'] });
  });
});

describe('meshdev logs', () => {
  it('a bare service name shows every version, prefixed; service@version just that one', async () => {
    const [p1, p2] = [await deadPort(), await deadPort()];
    const m = await start(`version: 1
mesh: { name: logs, mtls: off, ports: { from: 0 }, admin: { port: 0 } }
services:
  api:
    versions:
      v1: { command: node ${APP}, port: ${p1}, health: { interval: 100ms } }
      v2: { command: node ${APP}, port: ${p2}, health: { interval: 100ms } }
`);
    await until(() => m.states.includes('api@v1:up') && m.states.includes('api@v2:up'));
    const all = await runCli(['logs', 'api'], { cwd: m.dir });
    expect(all.code).toBe(0);
    expect(all.stdout).toContain(`api@v1 | app api listening on ${p1}`);
    expect(all.stdout).toContain(`api@v2 | app api listening on ${p2}`);
    const one = await runCli(['logs', 'api@v2'], { cwd: m.dir });
    expect(one.stdout).toBe(`app api listening on ${p2} \n`);
    const wrong = await runCli(['logs', 'api@v9'], { cwd: m.dir });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('api has no version "v9"');
  });
});

describe('no orphans', () => {
  const config = (port: number, marker: string) => `version: 1
mesh: { name: orphans, mtls: off, ports: { from: 0 }, admin: { port: 0 } }
services:
  api: { command: "CHILD=1 MARKER=${marker} node ${APP}", port: ${port}, health: { interval: 100ms } }
`;

  it('nothing meshdev started survives `up` ending by SIGINT', async () => {
    const marker = `marker-int-${process.pid}-${Date.now()}`;
    const { dir } = project(config(await deadPort(), marker));
    const cli = spawnCli(['up', '--json'], { cwd: dir });
    scope.defer(async () => cli.child.exitCode === null && cli.child.kill('SIGKILL'));
    await cli.waitForLine(/"state":"up"/);
    expect(processesWith(marker).length).toBeGreaterThanOrEqual(2); // the app and its child
    cli.child.kill('SIGINT');
    expect(await cli.exit).toBe(0);
    await until(() => processesWith(marker).length === 0, 3000);
  });

  it('nothing survives meshdev itself being killed with SIGKILL', async () => {
    const marker = `marker-kill-${process.pid}-${Date.now()}`;
    const { dir } = project(config(await deadPort(), marker));
    const cli = spawnCli(['up', '--json'], { cwd: dir });
    await cli.waitForLine(/"state":"up"/);
    expect(processesWith(marker).length).toBeGreaterThanOrEqual(2);
    cli.child.kill('SIGKILL');
    await cli.exit;
    await until(() => processesWith(marker).length === 0, 7000);
  });

  it('a command that ignores SIGTERM is SIGKILLed after the grace, even when meshdev was SIGKILLed', async () => {
    const marker = `marker-stubborn-${process.pid}-${Date.now()}`;
    const stubborn = `node -e "process.on('SIGTERM', () => {}); console.log('stubborn-ready'); setInterval(() => {}, 1000)" ${marker}; true`;
    const { dir } = project(`version: 1
mesh: { name: orphans, mtls: off, ports: { from: 0 }, admin: { port: 0 } }
services:
  api: { command: ${JSON.stringify(stubborn)}, port: ${await deadPort()} }
`);
    const cli = spawnCli(['up', '--json'], { cwd: dir });
    scope.defer(async () => cli.child.exitCode === null && cli.child.kill('SIGKILL'));
    await cli.waitForLine(/"event":"ready"/, 30_000);
    // The command itself (not only the shim and sh, whose command lines name the marker too).
    const stubbornRunning = () =>
      processesWith(marker).some((line) => / node -e process\.on/.test(line));
    // Its SIGTERM handler is in place once it says so in its log.
    const log = path.join(dir, '.meshdev/logs/api.log');
    await until(
      () => existsSync(log) && readFileSync(log, 'utf8').includes('stubborn-ready'),
      15_000,
    );
    expect(stubbornRunning()).toBe(true);
    cli.child.kill('SIGKILL');
    await cli.exit;
    await sleep(1_500);
    expect(stubbornRunning()).toBe(true); // it ignored SIGTERM: only the SIGKILL after the grace ends it
    // The shim's grace is 5 s; then SIGKILL. Bounded well above that for a loaded machine.
    await until(() => processesWith(marker).length === 0, 20_000);
  });

  it('background children of a crashed command are stopped, so the restart gets the port', async () => {
    const port = await deadPort();
    const m = await start(`version: 1
mesh: { name: sup, mtls: off, ports: { from: 0 }, admin: { port: 0 } }
services:
  api: { command: "node ${APP} & sleep 1; exit 3", port: ${port}, health: { interval: 100ms } }
`);
    await until(() => m.states.filter((state) => state === 'api:crashed').length >= 2, 20_000);
    const log = readFileSync(path.join(m.dir, '.meshdev/logs/api.log'), 'utf8');
    expect(log.match(/listening on/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
    expect(log).not.toContain('EADDRINUSE');
    expect(m.states).not.toContain('api:blocked');
  });

  it('a port still held by another process is reported with its pid, not as healthy', async () => {
    const squatter = await startServer(echo('squatter'));
    scope.defer(() => squatter.close());
    const m = await start(`version: 1
mesh: { name: sup, mtls: off, ports: { from: 0 }, admin: { port: 0 } }
gateway: { port: 0, routes: [{ path: /, service: api }] }
services:
  api: { command: node ${APP}, port: ${squatter.port}, health: { interval: 100ms } }
`);
    const messages: string[] = [];
    m.controller.bus.on('process', (event) => messages.push(event.message));
    await until(() => m.states.includes('api:blocked'));
    const response = await fetch(`${m.gateway()}/`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: 'unhealthy', flags: ['UH'] });
    if (process.platform === 'linux')
      expect(messages.join('\n')).toContain(
        `port ${squatter.port} still held by pid ${process.pid}`,
      );
    await squatter.close();
    await until(() => m.states.includes('api:up'), 15_000);
  });
});
