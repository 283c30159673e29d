import { readFileSync } from 'node:fs';
import path from 'node:path';
import AjvDraft04Module from 'ajv-draft-04';
import type { Ajv, Options } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../src/config/load.js';
import { exportKong } from '../src/export/kong.js';
import { runCli } from './helpers/cli.js';
import { testScope } from './helpers/scope.js';

const scope = testScope();
// ajv-draft-04 is CommonJS: its class is the module itself (Kong's schema is draft-04).
const AjvDraft04 = AjvDraft04Module as unknown as new (options: Options) => Ajv;
const validate = new AjvDraft04({ strict: false, allErrors: true, validateFormats: false }).compile(
  JSON.parse(readFileSync('fixtures/schemas/kong/kong_json_schema.json', 'utf8')) as object,
);

/** The document passes Kong's declarative schema. */
function accepted(document: unknown): void {
  const ok = validate(document);
  expect(ok ? [] : validate.errors).toEqual([]);
}

const EDGE = `version: 1
mesh: { name: edge }
gateway:
  port: 8080
  auth: { require: apiKey, apiKeys: { header: x-api-key, query: apikey } }
  cors: { origins: [http://localhost:5173] }
  routes:
    - { path: /status, service: shop, auth: { require: none } }
    - { path: /admin, service: shop, auth: { groups: [staff] }, rateLimit: { requests: 10, per: 1m } }
    - { path: /, service: shop }
consumers:
  alice: { plan: free, keys: [secret-alice-1, secret-alice-2], groups: [staff] }
  bob: { plan: gold, keys: [secret-bob] }
plans:
  free: { rateLimit: { requests: 60, per: 5s }, quota: { requests: 1000, per: 1d } }
  gold: { rateLimit: { requests: 100, per: 1s } }
services:
  shop:
    versions: { v1: { port: 9001 }, v2: { port: 9002 } }
    timeout: 3s
    retries: { attempts: 2 }
    routes: [{ split: { v1: 90, v2: 10 } }]
`;

describe('meshdev export --to kong', () => {
  it('writes a decK file Kong accepts: services, routes, weighted upstream, plugins, consumers without secrets', () => {
    const dir = scope.project(EDGE);
    const { document, warnings } = exportKong(loadConfigFile(path.join(dir, 'mesh.config.yaml')));
    accepted(document);
    expect(document.services.map((s) => s.name)).toEqual(['shop-0', 'shop-1', 'shop-2']);
    expect(document.services[0]).toMatchObject({
      host: 'shop.upstream',
      read_timeout: 3000,
      retries: 2,
      routes: [{ paths: ['/status'], strip_path: false }],
    });
    expect(document.services[0]!.routes).toEqual([
      expect.not.objectContaining({ plugins: expect.anything() }),
    ]);
    const admin = (
      document.services[1]!.routes as Array<{ plugins: Array<{ name: string; config: unknown }> }>
    )[0]!;
    expect(admin.plugins).toEqual([
      {
        name: 'key-auth',
        config: {
          key_names: ['x-api-key', 'apikey'],
          key_in_header: true,
          key_in_query: true,
          hide_credentials: true,
        },
      },
      { name: 'acl', config: { allow: ['staff'] } },
      { name: 'rate-limiting', config: { policy: 'local', limit_by: 'consumer', minute: 10 } },
    ]);
    expect(document.upstreams).toEqual([
      {
        name: 'shop.upstream',
        targets: [
          { target: 'shop-v1:80', weight: 900 },
          { target: 'shop-v2:80', weight: 100 },
        ],
      },
    ]);
    expect(document.consumers).toEqual([
      {
        username: 'alice',
        keyauth_credentials: [
          { key: '${{ env "DECK_ALICE_KEY_1" }}' },
          { key: '${{ env "DECK_ALICE_KEY_2" }}' },
        ],
        acls: [{ group: 'staff' }],
      },
      { username: 'bob', keyauth_credentials: [{ key: '${{ env "DECK_BOB_KEY" }}' }] },
    ]);
    expect(JSON.stringify(document)).not.toContain('secret-');
    expect(document.plugins).toEqual([
      { name: 'cors', config: expect.objectContaining({ origins: ['http://localhost:5173'] }) },
      {
        name: 'rate-limiting',
        config: { policy: 'local', limit_by: 'consumer', minute: 720 },
        consumer: 'alice',
      },
      {
        name: 'rate-limiting',
        config: { policy: 'local', limit_by: 'consumer', day: 1000 },
        consumer: 'alice',
        instance_name: 'alice-quota',
      },
      {
        name: 'rate-limiting',
        config: { policy: 'local', limit_by: 'consumer', second: 100 },
        consumer: 'bob',
      },
    ]);
    expect(
      warnings.map(
        (w) => `${w.at.replace(/^.*mesh\.config\.yaml/, 'mesh.config.yaml')} ${w.message}`,
      ),
    ).toEqual([
      'mesh.config.yaml:15:11 60 per 5s: Kong counts per second, minute, hour, day, month or year; exported as 720 per minute',
    ]);
  });

  it('exports the bundled demo as a file Kong accepts, and --strict exits 1 on a lossy mapping', async () => {
    accepted(exportKong(loadConfigFile('mesh.config.yaml')).document);
    const dir = scope.project(EDGE);
    const printed = await runCli(['export', '--to', 'kong'], { cwd: dir });
    expect(printed.code).toBe(0);
    accepted(parse(printed.stdout));
    const strictRun = await runCli(['export', '--to', 'kong', '--strict', '--out', 'kong'], {
      cwd: dir,
    });
    expect(strictRun.code).toBe(1);
    expect(readFileSync(path.join(dir, 'kong', 'kong.yaml'), 'utf8')).toContain(
      '_format_version: "3.0"',
    );
  });
});
