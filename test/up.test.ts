import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { echo } from '../fixtures/servers/upstreams.js';
import { runCli } from './helpers/cli.js';
import { spawnCli } from './helpers/process.js';
import { testScope } from './helpers/scope.js';

const scope = testScope();

const project = (yaml: string) => scope.project(yaml, 'meshdev-up-');
const running = scope.running;
const server = scope.server;

const config = (apiPort: number, seconds = 0) => `version: 1
mesh: { name: proc, ports: { from: 0 }, admin: { port: 0 } }
gateway: { port: 0, routes: [{ path: /api, service: api, stripPrefix: true }] }
services:
  api:
    port: ${apiPort}
    ${seconds ? `faults: [{ match: { path: /slow }, delay: ${seconds}s }]` : ''}
`;

describe('meshdev up (a real process)', () => {
  it('prints a ready line, one JSON line per call, and on SIGINT finishes the call in flight and exits 0', async () => {
    const api = await server(echo('api'));
    const cli = running(spawnCli(['up', '--json'], { cwd: project(config(api.port, 1)) }));
    const ready = JSON.parse(await cli.waitForLine(/"event":"ready"/)) as {
      listeners: Array<{ kind: string; service: string | null; port: number }>;
    };
    expect(ready.listeners.map((l) => l.kind).sort()).toEqual(['gateway', 'inbound']);
    const gateway = ready.listeners.find((l) => l.kind === 'gateway')!.port;

    expect((await fetch(`http://127.0.0.1:${gateway}/api/hello`)).status).toBe(200);
    const line = JSON.parse(await cli.waitForLine(/"event":"call"/)) as Record<string, unknown>;
    expect(line).toMatchObject({
      caller: 'gateway',
      service: 'api',
      method: 'GET',
      path: '/hello',
      status: 200,
      flags: [],
    });

    const inFlight = fetch(`http://127.0.0.1:${gateway}/api/slow`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    cli.child.kill('SIGINT');
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(response.headers.get('x-meshdev-flags')).toBe('DI');
    expect(await cli.exit).toBe(0);
  });

  it('prints readable access lines without terminal control codes, and writes .meshdev/env files', async () => {
    const api = await server(echo('api'));
    const dir = project(config(api.port));
    const cli = running(spawnCli(['up'], { cwd: dir }));
    const header = await cli.waitForLine(/— up/);
    expect(header).toMatch(
      /^mesh proc: 1 service, 1 instance, 1 route, 0 faults — up \(mesh\.config\.yaml, admin 127\.0\.0\.1:\d+\)$/,
    );
    const gatewayLine = await cli.waitForLine(/^ {2}gateway/);
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(gatewayLine)![1]);
    await fetch(`http://127.0.0.1:${port}/api/items/1`);
    const access = await cli.waitForLine(/gateway→api/);
    expect(access).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} gateway→api GET \/items\/1 200 \d+ms \d+B trace=[0-9a-f]{6}…$/,
    );
    expect(cli.lines.join('\n')).not.toContain('\u001b');
    expect(readFileSync(path.join(dir, '.meshdev/env/api.env'), 'utf8')).toBe(
      `MESH_SERVICE=api\nPORT=${api.port}\n`,
    );
    cli.child.kill('SIGTERM');
    expect(await cli.exit).toBe(0);
  });

  it('a port already in use is an error naming the listener and port, exit 1', async () => {
    const busy = await server(echo('busy'));
    const dir = project(`version: 1
mesh: { name: clash, ports: { from: 0 }, admin: { port: 0 } }
gateway: { port: ${busy.port}, routes: [{ path: /, service: api }] }
services:
  api: { port: 1 }
`);
    const result = await runCli(['up', '--no-ui'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`error: port ${busy.port} is already in use (gateway)`);
  });
});

describe('meshdev env', () => {
  it('prints the upstream URLs in shell, dotenv and json formats', async () => {
    const dir = project(`version: 1
mesh: { name: e, ports: { from: 17100 } }
services:
  orders: { port: 3001, upstreams: [my-payments] }
  my-payments: { port: 3002 }
`);
    const shell = await runCli(['env', 'orders'], { cwd: dir });
    expect(shell.stdout).toBe(
      'export MESH_SERVICE=orders\nexport PORT=3001\nexport MY_PAYMENTS_URL=http://127.0.0.1:17100\n',
    );
    const json = await runCli(['env', 'orders', '--format', 'json'], { cwd: dir });
    expect(JSON.parse(json.stdout)).toEqual({
      MESH_SERVICE: 'orders',
      PORT: '3001',
      MY_PAYMENTS_URL: 'http://127.0.0.1:17100',
    });
    const missing = await runCli(['env', 'nope'], { cwd: dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no service "nope"');
  });

  it('--only is an option of up, and names a service that does not exist', async () => {
    const dir = scope.project(`version: 1
mesh: { name: only, mtls: off, ports: { from: 0 }, admin: { port: 0 } }
services:
  api: { sim: { routes: [{ method: GET, path: / }] } }
`);
    const result = await runCli(['up', '--only', 'nope'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--only: no service "nope"');
  });

  it('--quiet prints the listeners but neither calls nor stats tables', async () => {
    const dir = scope.project(`version: 1
mesh: { name: quiet, mtls: off, ports: { from: 0 }, admin: { port: 0 } }
gateway: { port: 0, routes: [{ path: /, service: api }] }
services:
  api: { sim: { routes: [{ method: GET, path: / }] } }
`);
    const cli = scope.running(
      spawnCli(['up', '--no-ui', '--quiet', '--summary-interval', '100ms'], { cwd: dir }),
    );
    const gateway = await cli.waitForLine(/gateway +clients → gateway/);
    const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(gateway)![1]!;
    expect((await fetch(`${url}/`)).status).toBe(200);
    // Ten summary intervals: a stats table would have been printed by now.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(cli.lines.filter((line) => /last 60s|GET \/ 200/.test(line))).toEqual([]);
  });
});
