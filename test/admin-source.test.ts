import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { echo } from '../fixtures/servers/upstreams.js';
import { AdminClient } from '../src/cli/admin-client.js';
import { loadConfigFile } from '../src/config/load.js';
import { MeshController } from '../src/controlplane/controller.js';
import { AdminSource } from '../src/ui/admin-source.js';
import { runCli } from './helpers/cli.js';
import { testScope } from './helpers/scope.js';

const scope = testScope();

/** A running mesh (its own admin API) with two versions of `pay` and a spec-less gateway. */
async function running() {
  const v1 = await scope.server(echo('v1'));
  const v2 = await scope.server(echo('v2'));
  const dir = mkdtempSync(path.join(tmpdir(), 'meshdev-top-'));
  const file = path.join(dir, 'mesh.config.yaml');
  writeFileSync(
    file,
    `version: 1
mesh: { name: topped, ports: { from: 0 }, admin: { port: 0 } }
gateway: { port: 0, routes: [{ path: /, service: pay }] }
services:
  pay:
    versions: { v1: { port: ${v1.port} }, v2: { port: ${v2.port} } }
`,
  );
  const controller = await MeshController.start(loadConfigFile(file), { ephemeralPorts: true });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await controller.stop(500);
  };
  scope.defer(stop);
  const client = AdminClient.at(`http://127.0.0.1:${controller.adminPort}`, controller.adminToken);
  const source = new AdminSource(client);
  scope.defer(async () => source.stop());
  return { controller, source, stop, gateway: `http://127.0.0.1:${controller.mesh.gatewayPort()}` };
}

describe('the dashboard of another process (AdminSource over the admin API)', () => {
  it('shows the running mesh: services, instances, calls, stats and SPIFFE IDs', async () => {
    const { source, gateway } = await running();
    for (let i = 0; i < 3; i++) await (await fetch(`${gateway}/hello`)).text();
    await source.start(60_000); // one frame now; no timer in the way
    const frame = source.frame();
    expect(frame.mesh).toBe('topped');
    expect(frame.services.map((s) => s.name)).toEqual(['pay']);
    expect(frame.instances.map((i) => i.version)).toEqual(['v1', 'v2']);
    expect(frame.calls).toHaveLength(3);
    expect(frame.calls[0]).toMatchObject({ caller: 'gateway', service: 'pay', status: 200 });
    expect(frame.stats.total.requests).toBe(3);
    expect(frame.spiffe('pay')).toBe('spiffe://meshdev.local/ns/default/sa/pay');
    expect(frame.disconnected).toBeUndefined();
  });

  it('fetches contracts and usage only while a view asks for them', async () => {
    const { source } = await running();
    await source.start(60_000);
    expect(source.frame().contracts?.()).toBeUndefined();
    expect(source.frame().usage?.()).toBeUndefined();
    await source.poll(true); // the views asked above: this round brings them
    expect(source.frame().contracts?.()).toMatchObject({ mode: expect.any(String) });
    expect(source.frame().usage?.()).toEqual([]);
  });

  it('changes the mesh through the API, and reports a refused change', async () => {
    const { controller, source } = await running();
    await source.start(60_000);
    await source.addFault('pay', 'abort', 50);
    const faults = controller.mesh.runtime.state()[0]!.faults;
    expect(faults).toMatchObject([{ source: 'runtime', abort: { status: 503, percent: 50 } }]);
    expect(source.frame().services[0]!.faults).toHaveLength(1); // polled again after the change
    await source.removeFault(faults[0]!.id);
    // The fault editor's header condition becomes the fault's match.
    await source.addFault('pay', 'delay', 100, 'end-user=jason');
    const conditioned = controller.mesh.runtime.state()[0]!.faults;
    expect(conditioned).toMatchObject([{ match: { headers: { 'end-user': { exact: 'jason' } } } }]);
    await source.removeFault(conditioned[0]!.id);
    await expect(source.addFault('pay', 'abort', 10, 'not a=header?')).rejects.toThrow(
      /not a header condition/,
    );
    expect(controller.mesh.runtime.state()[0]!.faults).toEqual([]);
    await source.setSplit('pay', { v1: 20, v2: 80 });
    expect(controller.mesh.runtime.state()[0]!.split).toMatchObject({
      weights: { v1: 20, v2: 80 },
      source: 'runtime',
    });
    await expect(source.setSplit('pay', { v1: 20, v3: 80 })).rejects.toThrow(/v3/);
  });

  it('says so when the mesh goes away, and keeps the last frame', async () => {
    const { source, stop } = await running();
    await source.start(60_000);
    await stop();
    await source.poll(false);
    const frame = source.frame();
    expect(frame.mesh).toBe('topped');
    expect(frame.disconnected).toMatch(/does not answer/);
  });
});

describe('meshdev top without a terminal', () => {
  it('says it needs one, and what to use in scripts (exit 2)', async () => {
    const dir = scope.project('version: 1\nmesh: { name: x }\nservices: { a: { port: 1 } }\n');
    const result = await runCli(['top'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('meshdev top needs a terminal');
    expect(result.stderr).toContain('meshdev calls --follow');
  });
});
