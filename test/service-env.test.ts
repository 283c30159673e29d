/**
 * One answer to "what env does a service get": the supervised process, `meshdev env` and
 * `.meshdev/env/*.env` agree, also when the OS picks the ports (`mesh.ports.from: 0`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deadPort } from '../fixtures/servers/upstreams.js';
import { runCli } from './helpers/cli.js';
import { spawnCli } from './helpers/process.js';
import { testScope } from './helpers/scope.js';

const APP = path.resolve('fixtures/servers/app.mjs');
const scope = testScope();

describe('service env with ports from the OS', () => {
  it('meshdev env and .meshdev/env agree with what the process really got', async () => {
    const webPort = await deadPort();
    const dir = scope.project(`version: 1
mesh: { name: envs, mtls: off, ports: { from: 0 }, admin: { port: 0 } }
services:
  web:
    port: ${webPort}
    command: node ${JSON.stringify(APP)}
    health: { path: /health, interval: 200ms }
    upstreams: [api]
  api:
    sim: { routes: [{ method: GET, path: /, status: 200 }] }
`);
    const before = await runCli(['env', 'web'], { cwd: dir });
    expect(before.code).toBe(1);
    expect(before.stderr).toContain(
      "the ports of web's upstreams are chosen when the mesh starts (mesh.ports.from is 0)",
    );

    const up = scope.running(spawnCli(['up', '--no-ui', '--json', '--no-load'], { cwd: dir }));
    await up.waitForLine(/"event":"ready"/, 30_000);
    let got: Record<string, string> | undefined;
    for (let i = 0; i < 150 && !got; i++) {
      got = await fetch(`http://127.0.0.1:${webPort}/env`)
        .then((response) => response.json() as Promise<Record<string, string>>)
        .catch(
          () => new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 100)),
        );
    }
    const apiUrl = got!.API_URL!;
    expect(apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(apiUrl).not.toBe('http://127.0.0.1:0');

    const printed = await runCli(['env', 'web', '--format', 'json'], { cwd: dir });
    expect(printed.code).toBe(0);
    expect(JSON.parse(printed.stdout)).toMatchObject({ API_URL: apiUrl, PORT: String(webPort) });
    const file = readFileSync(path.join(dir, '.meshdev/env/web.env'), 'utf8');
    expect(file).toContain(`API_URL=${apiUrl}\n`);
  });
});
