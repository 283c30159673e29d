import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../src/config/load.js';
import { importKong } from '../src/import/kong.js';
import { readSources } from '../src/import/source.js';
import { runCli } from './helpers/cli.js';
import { testScope } from './helpers/scope.js';

const scope = testScope();

/** A decK file as a team keeps one: local dev servers, an upstream, plugins at every scope. */
const KONG = `_format_version: "3.0"
_info: { select_tags: [shop] }
services:
  - name: catalog-service
    url: http://localhost:3100
    read_timeout: 5000
    retries: 2
    routes:
      - name: catalog
        paths: [/catalog]
        strip_path: true
        preserve_host: true
        methods: [GET]
      - name: legacy
        paths: ["~/v[0-9]+/catalog"]
        preserve_host: true
  - name: orders-service
    host: orders.upstream
    routes:
      - name: orders
        paths: [/orders]
        strip_path: false
        preserve_host: true
        plugins:
          - name: acl
            config: { allow: [buyers] }
          - name: rate-limiting
            config: { minute: 30, hour: 500, policy: local }
    plugins:
      - name: request-transformer
        config: { add: { headers: ["x-from:kong"] } }
  - name: maintenance
    host: status.internal
    routes: [{ name: down, paths: [/maintenance], preserve_host: true }]
    plugins:
      - name: request-termination
        config: { status_code: 503, message: back soon }
upstreams:
  - name: orders.upstream
    algorithm: round-robin
    targets:
      - { target: "localhost:3201", weight: 80 }
      - { target: "localhost:3202", weight: 20 }
plugins:
  - name: key-auth
    config: { key_names: [apikey], hide_credentials: true }
  - name: cors
    config: { origins: ["http://localhost:5173"], methods: [GET, POST], credentials: true, max_age: 600 }
  - name: rate-limiting
    consumer: alice
    config: { second: 5, minute: 100, day: 10000 }
consumers:
  - username: alice
    keyauth_credentials: [{ key: "\${{ env \\"DECK_ALICE_KEY\\" }}" }]
    acls: [{ group: buyers }]
  - username: bob
    keyauth_credentials: [{ key: literal-bob-key-123 }, { key: short }]
    basicauth_credentials: [{ username: bob, password: pw }]
    plugins:
      - name: rate-limiting
        config: { minute: 100, second: 5, day: 10000 }
`;

function kongFile(text = KONG): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'meshdev-kong-'));
  const file = path.join(dir, 'kong.yaml');
  writeFileSync(file, text);
  return file;
}

describe('meshdev import kong', () => {
  it('maps services, upstream targets, routes, auth, limits, CORS and consumers into a config', () => {
    const { draft, warnings } = importKong(readSources([kongFile()]), { name: 'shop' });
    expect(draft.services).toEqual({
      'catalog-service': {
        port: 3100,
        timeout: '5s',
        retries: { attempts: 2, retryOn: ['connect-failure', 'reset'] },
      },
      orders: {
        versions: { v1: { port: 3201 }, v2: { port: 3202 } },
        routes: [{ split: { v1: 80, v2: 20 } }],
      },
      status: { faults: [{ abort: { status: 503, percent: 100 } }] },
    });
    expect(draft.gateway).toEqual({
      port: 8000,
      routes: [
        { path: '/catalog', service: 'catalog-service', stripPrefix: true },
        {
          path: '/orders',
          service: 'orders',
          auth: { groups: ['buyers'] },
          rateLimit: { requests: 30, per: '1m' },
        },
        { path: '/maintenance', service: 'status', stripPrefix: true },
      ],
      auth: { apiKeys: { header: 'apikey', query: 'apikey' }, require: 'apiKey' },
      cors: {
        origins: ['http://localhost:5173'],
        methods: ['GET', 'POST'],
        credentials: true,
        maxAge: '10m',
      },
    });
    // The same limits from a top-level plugin and a consumer's own are one plan.
    expect(draft.plans).toEqual({
      '100-per-1m-10000-per-1d': {
        rateLimit: { requests: 100, per: '1m', burst: 5 },
        quota: { requests: 10000, per: '1d' },
      },
    });
    expect(draft.consumers).toEqual({
      alice: {
        plan: '100-per-1m-10000-per-1d',
        keys: ['${ALICE_KEY:-dev-alice-key}'],
        groups: ['buyers'],
      },
      bob: { plan: '100-per-1m-10000-per-1d', keys: ['${BOB_KEY_1:-literal-bob-key-123}'] },
    });
    const said = warnings.map((w) => `${path.basename(w.at)} ${w.message}`);
    expect(said).toEqual(
      expect.arrayContaining([
        "kong.yaml:13:9 services[0].routes[0].methods: meshdev's gateway routes by path prefix; this condition is dropped",
        'kong.yaml:15:17 services[0].routes[1].paths[0]: a regex path: meshdev routes by prefix; skipped',
        'kong.yaml:28:35 services[1].routes[0].plugins[1].config.hour: a second window on a route: meshdev limits a route in one window; the shortest is kept',
        'kong.yaml:30:9 services[1].plugins[0].name: plugin request-transformer: meshdev has no equivalent; skipped',
        "kong.yaml:40:5 upstreams[0].algorithm: meshdev balances versions by the route's split; skipped",
        expect.stringMatching(
          /^kong\.yaml:57:29 consumers\[1\]\.keyauth_credentials\[0\]\.key: a key written in the file: read from \$BOB_KEY_1/,
        ),
        'kong.yaml:57:59 consumers[1].keyauth_credentials[1].key: a key shorter than 8 characters: meshdev refuses it; skipped',
        'kong.yaml:58:5 consumers[1].basicauth_credentials: meshdev knows consumers by API key or JWT; skipped',
      ]),
    );
    expect(warnings).toHaveLength(8);
  });

  it('writes a config whose gateway asks for the keys and answers from the dev servers', async () => {
    const project = mkdtempSync(path.join(tmpdir(), 'meshdev-kong-project-'));
    const run = await runCli(['import', 'kong', kongFile()], { cwd: project });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      /wrote mesh\.config\.yaml: 3 services, 1 route, 3 gateway routes, 2 consumers, 1 simulated placeholder\n/,
    );
    const text = readFileSync(path.join(project, 'mesh.config.yaml'), 'utf8');
    const config = loadConfigText(text, path.join(project, 'mesh.config.yaml'), { env: {} });
    expect(config.consumers.map((consumer) => consumer.keys)).toEqual([
      ['dev-alice-key'],
      ['literal-bob-key-123'],
    ]);

    // The dev servers the file names are stood in for by real servers on free ports.
    const orders = await scope.server((req, res) => res.end(JSON.stringify({ orders: req.url })));
    const canary = await scope.server((req, res) => res.end(JSON.stringify({ orders: req.url })));
    const running = text
      .replace('port: 8000', 'port: 0')
      .replace('port: 3201', `port: ${orders.port}`)
      .replace('port: 3202', `port: ${canary.port}`)
      .replace('port: 3100', 'sim: { routes: [{ path: /*, body: { catalog: true } }] }');
    const mesh = await scope.mesh(running);
    expect((await fetch(`${mesh.gateway}/orders/7`)).status).toBe(401);
    const ok = await fetch(`${mesh.gateway}/orders/7?apikey=dev-alice-key`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ orders: '/orders/7' }); // strip_path: false kept the prefix
    const forbidden = await fetch(`${mesh.gateway}/orders/7`, {
      headers: { apikey: 'literal-bob-key-123' },
    });
    expect(forbidden.status).toBe(403); // bob is not in buyers
    const down = await fetch(`${mesh.gateway}/maintenance`, {
      headers: { apikey: 'dev-alice-key' },
    });
    expect(down.status).toBe(503);
  });

  it('says what it cannot carry over of a service: a gRPC scheme, a URL that is not one', () => {
    const { draft, warnings } = importKong(
      readSources([
        kongFile(`_format_version: "3.0"
services:
  - name: auth
    url: grpc://auth.prod.svc.cluster.local:50051
    routes: [{ paths: [/v1/auth] }]
  - name: broken
    url: "http://[not a url"
    routes: [{ paths: [/broken] }]
`),
      ]),
      { name: 'x' },
    );
    expect(Object.keys(draft.services)).toEqual(['auth']);
    expect(warnings.map((w) => `${path.basename(w.at)} ${w.message}`)).toEqual([
      'kong.yaml:4:5 services[0].url: grpc: meshdev proxies HTTP/1.1 (and WebSockets); the service is imported as HTTP',
      'kong.yaml:7:5 services[1].url: http://[not a url is not a URL; the service is skipped',
      'kong.yaml:8:14 services[1].routes[0]: route to service "broken", which is not imported; skipped',
    ]);
  });
});
