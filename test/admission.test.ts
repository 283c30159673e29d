/**
 * One admission path for every change: a change that cannot be validated, compiled or
 * bound is refused with a clear message, and the running state is exactly what it was.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deadPort, echo } from '../fixtures/servers/upstreams.js';
import { loadConfigFile } from '../src/config/load.js';
import { MeshController } from '../src/controlplane/controller.js';
import { testScope } from './helpers/scope.js';

const scope = testScope();

const yaml = (
  gatewayPort: number,
  v1: number,
  v2: number,
  routes = '- split: { v1: 100, v2: 0 }',
) => `version: 1
mesh: { name: adm, seed: 7, ports: { from: 0 }, admin: { port: 0 } }
gateway: { port: ${gatewayPort}, routes: [{ path: /, service: pay }] }
services:
  pay:
    versions: { v1: { port: ${v1} }, v2: { port: ${v2} } }
    routes:
      ${routes}
`;

async function start(text: string, ephemeralPorts = true) {
  const dir = mkdtempSync(path.join(tmpdir(), 'meshdev-adm-'));
  const file = path.join(dir, 'mesh.config.yaml');
  writeFileSync(file, text);
  const controller = await MeshController.start(loadConfigFile(file), {
    ephemeralPorts,
    watch: false,
  });
  scope.defer(() => controller.stop(500));
  const token = readFileSync(path.join(dir, '.meshdev/admin-token'), 'utf8').trim();
  const admin = `http://127.0.0.1:${controller.adminPort}`;
  /** Sends `text` as it is (JSON or not) and reads the JSON answer. */
  const send = async (method: string, url: string, text?: string) => {
    const response = await fetch(`${admin}${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: text,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const call = (method: string, url: string, body?: unknown) =>
    send(method, url, body === undefined ? undefined : JSON.stringify(body));
  const state = async () =>
    (await call('GET', '/v1/state')).body as {
      config: { status: string; message: string };
      services: Array<{ name: string; faults: unknown[]; split: unknown }>;
    };
  return { file, controller, call, send, state };
}

async function versionsSeen(url: string, count: number): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const name = ((await (await fetch(url)).json()) as { name: string }).name;
    seen[name] = (seen[name] ?? 0) + 1;
  }
  return seen;
}

describe('runtime changes are admitted like the file', () => {
  it('a fault whose regex does not compile is refused with 400, stored nowhere, and later changes still work', async () => {
    const v1 = await scope.server(echo('v1'));
    const v2 = await scope.server(echo('v2'));
    const m = await start(yaml(0, v1.port, v2.port));
    const bad = await m.call('POST', '/v1/faults', {
      service: 'pay',
      match: { headers: { 'x-a': { regex: '([' } } },
      abort: 503,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/^match\.headers\.x-a\.regex: invalid regular expression/);
    expect((await m.state()).services[0]!.faults).toEqual([]);

    expect((await m.call('POST', '/v1/faults', { service: 'pay', abort: 503 })).status).toBe(201);
    expect(
      (await m.call('PUT', '/v1/services/pay/split', { weights: { v1: 0, v2: 100 } })).status,
    ).toBe(200);
    writeFileSync(m.file, yaml(0, v1.port, v2.port, '- split: { v1: 50, v2: 50 }'));
    expect(await m.controller.reload()).toMatchObject({
      applied: true,
      message: 'applied in place',
    });
  });

  it('a fault the config would refuse is refused at runtime too, with the same rule', async () => {
    const m = await start(yaml(0, await deadPort(), await deadPort()));
    const onlyP50 = await m.call('POST', '/v1/faults', { service: 'pay', delay: { p50: '20ms' } });
    expect(onlyP50.status).toBe(400);
    expect(onlyP50.body.message).toBe(
      'delay: a delay needs either "duration" or both "p50" and "p99"',
    );
    const nothing = await m.call('POST', '/v1/faults', { service: 'pay' });
    expect(nothing.body.message).toBe(
      'fault: a fault needs at least one of delay, abort, reset or bandwidth',
    );
    const badFor = await m.call('POST', '/v1/faults', { service: 'pay', abort: 503, for: 'soon' });
    expect(badFor.body.message).toBe('for: "soon" is not a duration (e.g. 30s, 5m)');
    expect((await m.state()).services[0]!.faults).toEqual([]);
  });

  it('a body that is not JSON, or over 1 MB, is refused saying so, and nothing is stored', async () => {
    const m = await start(yaml(0, await deadPort(), await deadPort()));
    const notJson = await m.send('POST', '/v1/faults', '{"service": "pay", abort: 503');
    expect(notJson.status).toBe(400);
    expect(notJson.body.message).toMatch(/^the body is not JSON: /);
    const huge = await m.send('PUT', '/v1/services/pay/split', `"${'x'.repeat(1_200_000)}"`);
    expect(huge).toEqual({
      status: 413,
      body: { error: 'payload_too_large', message: 'the body is over 1000000 bytes' },
    });
    expect((await m.state()).services[0]).toMatchObject({ faults: [], split: { source: 'file' } });
    // An empty body is an empty object: the usual validation answers.
    const empty = await m.send('POST', '/v1/faults', '');
    expect(empty.body.message).toMatch(/^service: /);
  });

  it('a runtime split replaces a default route that sends everything to one version', async () => {
    const v1 = await scope.server(echo('v1'));
    const v2 = await scope.server(echo('v2'));
    const m = await start(yaml(0, v1.port, v2.port, '- to: v2'));
    const gateway = `http://127.0.0.1:${m.controller.mesh.gatewayPort()}/`;
    expect(await versionsSeen(gateway, 20)).toEqual({ v2: 20 });
    await m.call('PUT', '/v1/services/pay/split', { weights: { v1: 50, v2: 50 } });
    expect((await m.state()).services[0]!.split).toEqual({
      weights: { v1: 50, v2: 50 },
      source: 'runtime',
    });
    const seen = await versionsSeen(gateway, 200);
    expect(seen.v1).toBeGreaterThan(70);
    expect(seen.v2).toBeGreaterThan(70);
  });
});

describe('a reload that cannot be applied keeps the running config', () => {
  it('a gateway moved onto a busy port: refused naming the port, the old gateway still serves', async () => {
    const v1 = await scope.server(echo('v1'));
    const v2 = await scope.server(echo('v2'));
    const busy = await scope.server(echo('squatter'));
    const gatewayPort = await deadPort();
    const m = await start(yaml(gatewayPort, v1.port, v2.port), false);
    const gateway = `http://127.0.0.1:${gatewayPort}/`;
    expect((await fetch(gateway)).status).toBe(200);

    writeFileSync(m.file, yaml(busy.port, v1.port, v2.port));
    const result = await m.controller.reload();
    expect(result).toMatchObject({ applied: false, refused: true });
    expect(result.message).toContain(`port ${busy.port} is already in use (gateway)`);
    expect(result.message).toContain(`lsof -i :${busy.port}`);
    expect((await fetch(gateway)).status).toBe(200);
    const state = await m.state();
    expect(state.config.status).toBe('invalid');
    expect(state.config.message).toContain(`port ${busy.port}`);
    const viaApi = await m.call('POST', '/v1/reload');
    expect(viaApi.status).toBe(422);

    // Putting the file back makes the state valid again.
    writeFileSync(m.file, yaml(gatewayPort, v1.port, v2.port));
    expect(await m.controller.reload()).toMatchObject({ applied: true });
    expect((await m.state()).config.status).toBe('reloaded');
    expect((await fetch(gateway)).status).toBe(200);
  });
});

describe('a reload that restarts the gateway', () => {
  it('drains keep-alive connections instead of resetting them', async () => {
    const v1 = await scope.server(echo('v1'));
    const v2 = await scope.server(echo('v2'));
    const gatewayPort = await deadPort();
    const m = await start(yaml(gatewayPort, v1.port, v2.port), false);
    // Node's own keep-alive agent: unlike undici, it does not retry a request whose
    // reused connection was closed under it, so a reset shows.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    scope.defer(async () => agent.destroy());
    const get = () =>
      new Promise<void>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port: gatewayPort, path: '/', agent }, (response) => {
            response.resume();
            response.on('end', resolve);
            response.on('error', reject);
          })
          .on('error', reject);
      });
    const errors: string[] = [];
    let sent = 0;
    let reloaded = false;
    let afterReload = 0;
    const load = (async () => {
      // Bounded: stops 100 requests after the reload, or at 5,000.
      while (sent < 5_000 && afterReload < 100) {
        sent++;
        if (reloaded) afterReload++;
        try {
          await get();
        } catch (error) {
          errors.push((error as Error).message);
        }
      }
    })();
    while (sent < 50) await new Promise((resolve) => setTimeout(resolve, 10));
    // A new gateway route changes the gateway's settings: it restarts on the same port.
    writeFileSync(
      m.file,
      yaml(gatewayPort, v1.port, v2.port).replace(
        'routes: [{ path: /, service: pay }]',
        'routes: [{ path: /, service: pay }, { path: /v2, service: pay, version: v2 }]',
      ),
    );
    const result = await m.controller.reload();
    reloaded = true;
    await load;
    expect(result.message).toContain('gateway');
    expect(errors).toEqual([]);
    expect(afterReload).toBe(100);
  });
});
