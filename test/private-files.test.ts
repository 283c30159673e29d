/**
 * What meshdev keeps under `.meshdev/` and shows on the admin API without the token:
 * modes are set on every write, and query strings (which may carry keys) are redacted.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { echo } from '../fixtures/servers/upstreams.js';
import { loadConfigFile } from '../src/config/load.js';
import { MeshController } from '../src/controlplane/controller.js';
import { testScope } from './helpers/scope.js';

const scope = testScope();
const mode = (file: string) => statSync(file).mode & 0o777;

async function start(dir: string) {
  const controller = await MeshController.start(
    loadConfigFile(path.join(dir, 'mesh.config.yaml')),
    {
      ephemeralPorts: true,
      watch: false,
    },
  );
  scope.defer(() => controller.stop(200));
  return controller;
}

describe('.meshdev files', () => {
  it('a token and a leaf key left 0644 by an earlier run are 0600 again once rewritten', async () => {
    const api = await scope.server(echo('api'));
    const dir = mkdtempSync(path.join(tmpdir(), 'meshdev-modes-'));
    writeFileSync(
      path.join(dir, 'mesh.config.yaml'),
      `version: 1
mesh: { name: modes, ports: { from: 0 }, admin: { port: 0 } }
gateway: { port: 0, routes: [{ path: /, service: api }] }
services:
  api: { port: ${api.port} }
`,
    );
    const state = path.join(dir, '.meshdev');
    mkdirSync(path.join(state, 'certs'), { recursive: true });
    for (const file of ['admin-token', 'certs/api.key']) {
      writeFileSync(path.join(state, file), 'old\n');
      chmodSync(path.join(state, file), 0o644);
    }
    chmodSync(path.join(state, 'certs'), 0o755);
    await start(dir);
    expect(mode(path.join(state, 'admin-token'))).toBe(0o600);
    expect(mode(path.join(state, 'certs/api.key'))).toBe(0o600);
    expect(mode(path.join(state, 'certs'))).toBe(0o700);
    expect(mode(path.join(state, 'state.json'))).toBe(0o600);
  });
});

describe('recent calls on the admin API', () => {
  it('show query values only with the token', async () => {
    const api = await scope.server(echo('api'));
    const dir = scope.project(`version: 1
mesh: { name: redact, mtls: off, ports: { from: 0 }, admin: { port: 0 } }
gateway: { port: 0, routes: [{ path: /, service: api }] }
services:
  api: { port: ${api.port} }
`);
    const controller = await start(dir);
    await fetch(`http://127.0.0.1:${controller.mesh.gatewayPort()}/items?api_key=s3cret&page=2`);
    const admin = `http://127.0.0.1:${controller.adminPort}/v1/calls/recent`;
    type Calls = { calls: Array<{ path: string }> };
    await expect
      .poll(async () => ((await (await fetch(admin)).json()) as Calls).calls.length)
      .toBe(1);
    const anonymous = (await (await fetch(admin)).json()) as Calls;
    expect(anonymous.calls[0]!.path).toBe('/items?api_key=REDACTED&page=REDACTED');
    const token = readFileSync(path.join(dir, '.meshdev/admin-token'), 'utf8').trim();
    const withToken = (await (
      await fetch(admin, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as Calls;
    expect(withToken.calls[0]!.path).toBe('/items?api_key=s3cret&page=2');
  });
});
