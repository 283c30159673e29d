/**
 * A route's `headers` (Istio's header operations) on real sockets: the app sees the
 * request's changes, the caller the answer's — the mesh's own answers included — and a
 * route may not touch the headers that frame a message.
 */
import { describe, expect, it } from 'vitest';
import { echo } from '../fixtures/servers/upstreams.js';
import { ConfigError } from '../src/config/config-error.js';
import { loadConfigText } from '../src/config/load.js';
import { applyHeaderOperations } from '../src/dataplane/stages/headers.js';
import { testScope } from './helpers/scope.js';

const scope = testScope();

const config = (port: number, headers: string) => `version: 1
mesh: { name: headers, ports: { from: 0 }, admin: { port: 0 } }
gateway: { port: 0, routes: [{ path: /, service: api }] }
services:
  api:
    port: ${port}
    routes:
      - match: { path: /api/* }
        headers: ${headers}
      - match: { path: /plain }
`;

describe('route headers', () => {
  it('set, add and remove on the call and on its answer; other routes untouched', async () => {
    const app = await scope.server(echo('api'));
    const m = await scope.mesh(
      config(
        app.port,
        `{ request: { set: { x-env: dev }, add: { x-tag: mesh }, remove: [x-debug] }, response: { set: { cache-control: no-store }, add: { x-served-by: mesh }, remove: [content-type] } }`,
      ),
    );
    const response = await fetch(`${m.gateway}/api/x`, {
      headers: { 'x-env': 'prod', 'x-tag': 'client', 'x-debug': '1' },
    });
    const seen = (await response.json()) as { headers: Record<string, string> };
    expect(seen.headers['x-env']).toBe('dev');
    expect(seen.headers['x-tag']).toBe('client, mesh');
    expect(seen.headers['x-debug']).toBeUndefined();
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-served-by')).toBe('api, mesh');
    expect(response.headers.get('content-type')).toBeNull();

    const plain = await fetch(`${m.gateway}/plain`, { headers: { 'x-debug': '1' } });
    expect(((await plain.json()) as { headers: Record<string, string> }).headers['x-debug']).toBe(
      '1',
    );
    expect(plain.headers.get('cache-control')).toBeNull();
  });

  it('the mesh’s own answers get the response changes too (a 404 of no route does not)', async () => {
    const m = await scope.mesh(
      config(1, `{ response: { set: { x-route: api } } }`).replace(
        'port: 1',
        'port: 1\n    timeout: 2s',
      ),
    );
    const down = await fetch(`${m.gateway}/api/x`);
    expect(down.status).toBe(502);
    expect(down.headers.get('x-route')).toBe('api');
    const unrouted = await fetch(`${m.gateway}/elsewhere`);
    expect(unrouted.status).toBe(404);
    expect(unrouted.headers.get('x-route')).toBeNull();
  });

  it('refuses changes to the headers that frame a message, and invalid names', () => {
    const attempt = (headers: string) => {
      try {
        loadConfigText(config(3000, headers), 'mesh.config.yaml', { env: {} });
        return 'loaded';
      } catch (error) {
        return (error as ConfigError).issues.map((issue) => `${issue.path}: ${issue.message}`);
      }
    };
    expect(attempt('{ request: { set: { Content-Length: "0" } } }')).toEqual([
      expect.stringMatching(
        /^services\.api\.routes\[0\]\.headers\.request\.set\.Content-Length: content-length frames the message/,
      ),
    ]);
    expect(attempt('{ response: { remove: ["bad header"] } }')).toEqual([
      expect.stringMatching(/headers\.response\.remove\[0\]: not a valid header name/),
    ]);
    expect(attempt('{ request: { set: { X-Env: dev } } }')).toBe('loaded');
  });
});

describe('applyHeaderOperations', () => {
  it('removes, then sets, then adds (a value next to the ones there)', () => {
    const headers: Record<string, string | string[] | number | undefined> = {
      a: '1',
      b: ['2', '3'],
      c: 4,
      gone: 'x',
    };
    applyHeaderOperations(headers, {
      remove: ['gone', 'a'],
      set: { a: 'set', d: 'new' },
      add: { a: 'more', b: '5', c: '6', e: 'only' },
    });
    expect(headers).toEqual({
      a: ['set', 'more'],
      b: ['2', '3', '5'],
      c: ['4', '6'],
      d: 'new',
      e: 'only',
    });
  });
});
