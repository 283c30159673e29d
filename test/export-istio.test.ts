import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../src/config/load.js';
import { exportConsul } from '../src/export/consul.js';
import { exportIstio } from '../src/export/istio.js';
import { exportLinkerd } from '../src/export/linkerd.js';
import type { Manifest } from '../src/export/manifest.js';
import { runCli } from './helpers/cli.js';
import { acceptedBy, crdValidators } from './helpers/crd-schemas.js';
import { testScope } from './helpers/scope.js';

const scope = testScope();

/** A project holding the rich config and the JWKS file it names. */
function richProject(): string {
  const dir = scope.project(RICH);
  writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify({ keys: [] }));
  return dir;
}

const validators = crdValidators('istio');
const accepted = (manifests: readonly Manifest[]) => acceptedBy(validators, manifests);

const RICH = `version: 1
mesh: { name: rich, namespace: shop, mtls: permissive }
gateway:
  port: 8080
  routes: [{ path: /, service: reviews }]
  auth: { require: jwt, jwt: { issuer: https://id.example.com, audience: shop, jwks: ./jwks.json } }
services:
  productpage:
    port: 9080
    upstreams: [reviews]
  reviews:
    versions: { v1: { port: 9081 }, v2: { port: 9082 }, v3: { port: 9083 } }
    timeout: 10s
    retries: { attempts: 2, perTryTimeout: 1s, retryOn: [5xx, 503] }
    circuitBreaker: { consecutiveErrors: 3, openFor: 15s, maxConcurrent: 100 }
    allow: [productpage, { from: gateway, methods: [GET], paths: [/reviews/*] }]
    routes:
      - name: jason
        match: { headers: { end-user: jason }, method: [GET, HEAD], path: /reviews/:id }
        to: v2
        timeout: 500ms
        faults: [{ delay: { duration: 7s, percent: 100 } }]
      - match: { headers: { x-canary: { regex: "^1$" } } }
        split: { v1: 50, v3: 50 }
      - { to: v1 }
    faults:
      - { match: { path: /reviews/0 }, abort: { status: 503, percent: 10 } }
      - { bandwidth: 8KiB }
      - { reset: true, percent: 5 }
`;

describe('meshdev export --to istio', () => {
  it('writes resources Istio accepts, mapping routes, policies, faults, subsets and auth', () => {
    const dir = richProject();
    const { manifests, warnings } = exportIstio(loadConfigFile(path.join(dir, 'mesh.config.yaml')));
    const byName = accepted(manifests);
    expect(byName.get('PeerAuthentication/default')).toMatchObject({
      metadata: { namespace: 'shop' },
      spec: { mtls: { mode: 'PERMISSIVE' } },
    });
    const vs = byName.get('VirtualService/reviews')!.spec as {
      http: Array<Record<string, unknown>>;
    };
    expect(vs.http.map((route) => route.name)).toEqual(['fault-0', 'jason', 'route-1', 'route-2']);
    expect(vs.http[0]).toMatchObject({
      match: [{ uri: { exact: '/reviews/0' } }],
      fault: { abort: { httpStatus: 503, percentage: { value: 10 } } },
      route: [{ destination: { host: 'reviews', subset: 'v1' } }],
    });
    expect(vs.http[1]).toEqual({
      name: 'jason',
      match: [
        {
          uri: { regex: '^/reviews/[^/]+$' },
          headers: { 'end-user': { exact: 'jason' } },
          method: { exact: 'GET' },
        },
        {
          uri: { regex: '^/reviews/[^/]+$' },
          headers: { 'end-user': { exact: 'jason' } },
          method: { exact: 'HEAD' },
        },
      ],
      route: [{ destination: { host: 'reviews', subset: 'v2' } }],
      timeout: '0.5s',
      retries: { attempts: 2, perTryTimeout: '1s', retryOn: '5xx,503' },
      fault: { delay: { fixedDelay: '7s', percentage: { value: 100 } } },
    });
    expect(vs.http[2]).toMatchObject({
      match: [{ headers: { 'x-canary': { regex: '^1$' } } }],
      route: [
        { destination: { host: 'reviews', subset: 'v1' }, weight: 50 },
        { destination: { host: 'reviews', subset: 'v3' }, weight: 50 },
      ],
      timeout: '10s',
    });
    expect(byName.get('DestinationRule/reviews')!.spec).toEqual({
      host: 'reviews',
      trafficPolicy: {
        outlierDetection: {
          consecutive5xxErrors: 3,
          interval: '10s',
          baseEjectionTime: '15s',
          maxEjectionPercent: 100,
        },
        connectionPool: { http: { http2MaxRequests: 100 } },
      },
      subsets: ['v1', 'v2', 'v3'].map((v) => ({ name: v, labels: { version: v } })),
    });
    expect(byName.get('AuthorizationPolicy/reviews')!.spec).toEqual({
      selector: { matchLabels: { app: 'reviews' } },
      action: 'ALLOW',
      rules: [
        { from: [{ source: { principals: ['cluster.local/ns/shop/sa/productpage'] } }] },
        {
          from: [
            {
              source: {
                principals: [
                  'cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account',
                ],
              },
            },
          ],
          to: [{ operation: { methods: ['GET'], paths: ['/reviews/*'] } }],
        },
      ],
    });
    expect(byName.get('RequestAuthentication/gateway-jwt')!.spec).toEqual({
      selector: { matchLabels: { istio: 'ingressgateway' } },
      jwtRules: [{ issuer: 'https://id.example.com', audiences: ['shop'] }],
    });
    // Lossy mappings, each once, at its config line.
    expect(
      warnings.map(
        (w) =>
          `${w.at.replace(/^.*mesh\.config\.yaml/, 'mesh.config.yaml')} ${w.message.split(':')[0]}`,
      ),
    ).toEqual([
      "mesh.config.yaml:27:11 a fault with its own match becomes a route of its own in Istio, sent where the default route sends; the service's conditional routes do not apply to those calls",
      'mesh.config.yaml:28:11 bandwidth fault',
      'mesh.config.yaml:29:11 reset fault',
      'mesh.config.yaml:23:18 header regexes',
      'mesh.config.yaml:6:80 a JWKS file',
    ]);
  });

  it('exports route mirrors and headers: Istio both, Linkerd and Consul what they have', () => {
    const dir = scope.project(`version: 1
mesh: { name: mirrored }
services:
  httpbin:
    versions: { v1: { port: 9081 }, v2: { port: 9082 } }
    routes:
      - match: { path: /api/* }
        to: v1
        mirror: { to: v2, percent: 25 }
        headers:
          request: { set: { x-env: dev }, add: { x-tag: mesh }, remove: [x-debug] }
          response: { set: { cache-control: no-store } }
      - { to: v1 }
`);
    const config = loadConfigFile(path.join(dir, 'mesh.config.yaml'));
    const byName = accepted(exportIstio(config).manifests);
    expect(byName.get('VirtualService/httpbin')).toMatchObject({
      spec: {
        http: [
          {
            route: [{ destination: { host: 'httpbin', subset: 'v1' } }],
            mirror: { host: 'httpbin', subset: 'v2' },
            mirrorPercentage: { value: 25 },
            headers: {
              request: { set: { 'x-env': 'dev' }, add: { 'x-tag': 'mesh' }, remove: ['x-debug'] },
              response: { set: { 'cache-control': 'no-store' } },
            },
          },
          { route: [{ destination: { host: 'httpbin', subset: 'v1' } }] },
        ],
      },
    });
    const linkerd = exportLinkerd(config);
    const route = acceptedBy(crdValidators('linkerd'), linkerd.manifests).get('HTTPRoute/httpbin');
    expect((route!.spec.rules as unknown[])[0]).toMatchObject({
      filters: [
        {
          type: 'RequestHeaderModifier',
          requestHeaderModifier: {
            set: [{ name: 'x-env', value: 'dev' }],
            add: [{ name: 'x-tag', value: 'mesh' }],
            remove: ['x-debug'],
          },
        },
      ],
    });
    expect(linkerd.warnings.map((w) => w.message)).toEqual(
      expect.arrayContaining([
        'traffic mirroring: Linkerd has none; skipped',
        "answer headers: Linkerd's HTTPRoute changes request headers only; skipped",
      ]),
    );
    const consul = exportConsul(config);
    const router = acceptedBy(crdValidators('consul'), consul.manifests).get(
      'ServiceRouter/httpbin',
    );
    expect((router!.spec.routes as unknown[])[0]).toMatchObject({
      destination: {
        serviceSubset: 'v1',
        requestHeaders: { set: { 'x-env': 'dev' }, add: { 'x-tag': 'mesh' }, remove: ['x-debug'] },
        responseHeaders: { set: { 'cache-control': 'no-store' } },
      },
    });
    expect(consul.warnings.map((w) => w.message)).toContain(
      'traffic mirroring: Consul has none; skipped',
    );
  });

  it('exports the bundled demo and the Bookinfo example as resources Istio accepts', () => {
    for (const file of ['mesh.config.yaml', 'examples/bookinfo/mesh.config.yaml']) {
      const { manifests } = exportIstio(loadConfigFile(file));
      expect(manifests.length).toBeGreaterThan(3);
      accepted(manifests);
    }
  });

  it('prints YAML documents, writes one file per resource, and --strict exits 1 on a lossy mapping', async () => {
    const dir = richProject();
    const printed = await runCli(['export', '--to', 'istio'], { cwd: dir });
    expect(printed.code).toBe(0);
    const documents = parseAllDocuments(printed.stdout).map((doc) => doc.toJS() as Manifest);
    accepted(documents);
    expect(documents.map((doc) => doc.kind)).toContain('VirtualService');
    expect(printed.stderr).toMatch(
      /mesh\.config\.yaml:28:11 bandwidth fault: Istio has no equivalent; skipped/,
    );
    const strictRun = await runCli(['export', '--to', 'istio', '--strict', '--out', 'k8s'], {
      cwd: dir,
    });
    expect(strictRun.code).toBe(1);
    expect(strictRun.stderr).toContain('--strict: 5 things could not be carried over');
    expect(readFileSync(path.join(dir, 'k8s', 'virtualservice-reviews.yaml'), 'utf8')).toContain(
      'kind: VirtualService',
    );
    const unknown = await runCli(['export', '--to', 'envoy'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('meshdev cannot export to "envoy" yet');
  });
});
