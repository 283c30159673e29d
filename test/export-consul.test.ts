import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../src/config/load.js';
import { exportConsul } from '../src/export/consul.js';
import { configEntry } from '../src/export/consul-entries.js';
import type { Manifest } from '../src/export/manifest.js';
import { runCli } from './helpers/cli.js';
import { acceptedBy, crdValidators } from './helpers/crd-schemas.js';
import { testScope } from './helpers/scope.js';

const scope = testScope();
const validators = crdValidators('consul');
const accepted = (manifests: readonly Manifest[]) => acceptedBy(validators, manifests);

const CONFIG = `version: 1
mesh: { name: cs, namespace: shop }
services:
  productpage: { port: 9080, upstreams: [reviews] }
  reviews:
    versions: { v1: { port: 9081 }, v2: { port: 9082 } }
    timeout: 10s
    retries: { attempts: 2, retryOn: [5xx, connect-failure, 503] }
    allow: [productpage, { from: gateway, methods: [GET], paths: [/reviews/*] }]
    routes:
      - match: { headers: { end-user: jason }, path: /reviews/:id, method: GET }
        to: v2
        timeout: 500ms
      - split: { v1: 90, v2: 10 }
    faults: [{ abort: 503 }]
`;

describe('meshdev export --to consul', () => {
  it('writes config entries consul-k8s accepts: defaults, resolver subsets, router, splitter, intentions', () => {
    const dir = scope.project(CONFIG);
    const { manifests, warnings } = exportConsul(
      loadConfigFile(path.join(dir, 'mesh.config.yaml')),
    );
    const byName = accepted(manifests);
    expect(byName.get('ServiceDefaults/reviews')!.spec).toEqual({ protocol: 'http' });
    expect(byName.get('ServiceResolver/reviews')!.spec).toEqual({
      defaultSubset: 'v1',
      subsets: {
        v1: { filter: 'Service.Meta.version == v1' },
        v2: { filter: 'Service.Meta.version == v2' },
      },
    });
    expect(byName.get('ServiceRouter/reviews')!.spec).toEqual({
      routes: [
        {
          match: {
            http: {
              pathRegex: '^/reviews/[^/]+$',
              header: [{ name: 'end-user', exact: 'jason' }],
              methods: ['GET'],
            },
          },
          destination: {
            serviceSubset: 'v2',
            requestTimeout: '500ms',
            numRetries: 2,
            retryOnConnectFailure: true,
            retryOnStatusCodes: [503],
            retryOn: ['5xx'],
          },
        },
        {
          destination: {
            requestTimeout: '10000ms',
            numRetries: 2,
            retryOnConnectFailure: true,
            retryOnStatusCodes: [503],
            retryOn: ['5xx'],
          },
        },
      ],
    });
    expect(byName.get('ServiceSplitter/reviews')!.spec).toEqual({
      splits: [
        { weight: 90, serviceSubset: 'v1' },
        { weight: 10, serviceSubset: 'v2' },
      ],
    });
    expect(byName.get('ServiceIntentions/reviews')!.spec).toEqual({
      destination: { name: 'reviews' },
      sources: [
        { name: 'productpage', action: 'allow' },
        {
          name: 'ingress-gateway',
          permissions: [{ action: 'allow', http: { pathPrefix: '/reviews/', methods: ['GET'] } }],
        },
      ],
    });
    // productpage: no caller allowed, so everyone is denied.
    expect(byName.get('ServiceIntentions/productpage')!.spec).toMatchObject({
      sources: [{ name: '*', action: 'deny' }],
    });
    expect(warnings.map((w) => w.message)).toEqual(['fault injection: Consul has none; skipped']);
  });

  it('exports the demo and Bookinfo as entries consul-k8s accepts; the CLI prints them', async () => {
    for (const file of ['mesh.config.yaml', 'examples/bookinfo/mesh.config.yaml'])
      accepted(exportConsul(loadConfigFile(file)).manifests);
    const printed = await runCli(['export', '--to', 'consul'], { cwd: scope.project(CONFIG) });
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain('kind: ServiceSplitter');
  });

  it('writes the same entries as JSON for `consul config write` with --format entries', async () => {
    const dir = scope.project(CONFIG);
    const { manifests } = exportConsul(loadConfigFile(path.join(dir, 'mesh.config.yaml')));
    const entries = manifests.map(configEntry);
    const router = entries.find((entry) => entry.Kind === 'service-router')!;
    expect(router).toMatchObject({
      Name: 'reviews',
      Routes: [
        {
          Match: {
            HTTP: {
              PathRegex: '^/reviews/[^/]+$',
              Header: [{ Name: 'end-user', Exact: 'jason' }],
              Methods: ['GET'],
            },
          },
          Destination: { ServiceSubset: 'v2', RequestTimeout: '500ms', NumRetries: 2 },
        },
        expect.anything(),
      ],
    });
    // Subset names are the user's: they keep their case.
    expect(entries.find((entry) => entry.Kind === 'service-resolver')).toEqual({
      Kind: 'service-resolver',
      Name: 'reviews',
      DefaultSubset: 'v1',
      Subsets: {
        v1: { Filter: 'Service.Meta.version == v1' },
        v2: { Filter: 'Service.Meta.version == v2' },
      },
    });
    expect(
      entries.find((entry) => entry.Kind === 'service-intentions' && entry.Name === 'reviews'),
    ).toEqual({
      Kind: 'service-intentions',
      Name: 'reviews',
      Sources: [
        { Name: 'productpage', Action: 'allow' },
        {
          Name: 'ingress-gateway',
          Permissions: [{ Action: 'allow', HTTP: { PathPrefix: '/reviews/', Methods: ['GET'] } }],
        },
      ],
    });
    // Nothing is lost on the way: back in camelCase, every entry is its CRD's spec.
    const camel = (value: unknown, named = false): unknown =>
      Array.isArray(value)
        ? value.map((item) => camel(item))
        : typeof value === 'object' && value !== null
          ? Object.fromEntries(
              Object.entries(value).map(([key, inner]) => [
                named ? key : key === 'HTTP' ? 'http' : key.charAt(0).toLowerCase() + key.slice(1),
                camel(inner, key === 'Subsets'),
              ]),
            )
          : value;
    manifests.forEach((manifest, index) => {
      const { Kind: _kind, Name: name, ...body } = entries[index]!;
      const spec =
        manifest.kind === 'ServiceIntentions'
          ? { destination: { name }, ...(camel(body) as object) }
          : camel(body);
      expect(spec).toEqual(manifest.spec);
    });

    const out = mkdtempSync(path.join(tmpdir(), 'meshdev-consul-'));
    const run = await runCli(['export', '--to', 'consul', '--format', 'entries', '--out', out], {
      cwd: dir,
    });
    expect(run.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual([
      'service-defaults-productpage.json',
      'service-defaults-reviews.json',
      'service-intentions-productpage.json',
      'service-intentions-reviews.json',
      'service-resolver-reviews.json',
      'service-router-reviews.json',
      'service-splitter-reviews.json',
    ]);
    expect(JSON.parse(readFileSync(path.join(out, 'service-router-reviews.json'), 'utf8'))).toEqual(
      router,
    );
    const wrong = await runCli(['export', '--to', 'istio', '--format', 'entries'], { cwd: dir });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/only --to consul has another form/);
  });
});
