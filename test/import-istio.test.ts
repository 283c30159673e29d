import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../src/config/load.js';
import { withPlaceholders } from '../src/import/draft.js';
import { importIstio } from '../src/import/istio.js';
import { newConfigText } from '../src/import/write.js';
import { readSources } from '../src/import/source.js';
import { BIN, runCli } from './helpers/cli.js';
import { testScope } from './helpers/scope.js';

const scope = testScope();

/** Resources as a Bookinfo-style cluster has them: several kinds in one stream. */
const ROUTING = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: bookinfo }
spec:
  host: reviews.bookinfo.svc.cluster.local
  trafficPolicy:
    loadBalancer: { simple: LEAST_REQUEST }
    outlierDetection: { consecutive5xxErrors: 3, interval: 5s, baseEjectionTime: 1m30s }
    connectionPool: { http: { http2MaxRequests: 50 } }
  subsets:
    - { name: v1, labels: { version: v1 } }
    - { name: v2, labels: { version: v2 } }
    - { name: v3, labels: { version: v3 } }
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: { name: reviews, namespace: bookinfo }
spec:
  hosts: [reviews]
  http:
    - name: testers
      match:
        - headers: { end-user: { exact: jason } }
          uri: { prefix: /reviews/ }
        - headers: { x-group: { prefix: qa- } }
      route: [{ destination: { host: reviews, subset: v2 } }]
      timeout: 1.5s
      retries: { attempts: 3, perTryTimeout: 500ms, retryOn: "gateway-error,connect-failure,refused-stream,503" }
    - match: [{ queryParams: { debug: { exact: "1" } } }]
      route: [{ destination: { host: reviews, subset: v3 } }]
    - mirror: { host: reviews, subset: v3 }
      route:
        - { destination: { host: reviews, subset: v1 }, weight: 75 }
        - { destination: { host: reviews, subset: v3 }, weight: 25 }
---
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: { name: ratings }
spec:
  hosts: [ratings]
  http:
    - match: [{ method: { exact: POST } }, { method: { exact: PUT } }]
      fault:
        delay: { percent: 100, fixedDelay: 7s }
        abort: { percentage: { value: 12.5 }, httpStatus: 503 }
      route: [{ destination: { host: ratings } }]
    - route: [{ destination: { host: ratings } }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: reviews-v1 }
`;

const SECURITY = `apiVersion: v1
kind: List
items:
  - apiVersion: security.istio.io/v1
    kind: PeerAuthentication
    metadata: { name: default, namespace: bookinfo }
    spec: { mtls: { mode: PERMISSIVE } }
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: { name: reviews, namespace: bookinfo }
    spec:
      selector: { matchLabels: { app: reviews } }
      rules:
        - from: [{ source: { principals: [cluster.local/ns/bookinfo/sa/bookinfo-productpage] } }]
          to: [{ operation: { methods: [GET], paths: [/reviews/*] } }]
        - from: [{ source: { principals: [cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account] } }]
        - from: [{ source: { namespaces: [monitoring] } }]
        - when: [{ key: "request.auth.claims[iss]", values: [https://id.example.com] }]
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: { name: deny-ratings }
    spec:
      selector: { matchLabels: { app: ratings } }
      action: DENY
      rules: [{ from: [{ source: { principals: ["*"] } }] }]
`;

const GATEWAY = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: bookinfo-gateway }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["*"] }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: bookinfo }
spec:
  hosts: ["*"]
  gateways: [bookinfo-gateway]
  http:
    - match: [{ uri: { exact: /productpage } }, { uri: { prefix: /static } }]
      route: [{ destination: { host: productpage, port: { number: 9080 } } }]
    - match: [{ uri: { prefix: /api/reviews } }]
      rewrite: { uri: / }
      route: [{ destination: { host: reviews, subset: v1 } }]
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: ingress-jwt, namespace: istio-system }
spec:
  selector: { matchLabels: { istio: ingressgateway } }
  jwtRules:
    - issuer: https://id.example.com
      jwksUri: https://id.example.com/.well-known/jwks.json
`;

/** A temp directory holding `files` (relative name → text). */
function dirOf(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'meshdev-istio-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** A directory of Istio YAML: two files at the top, one in a subdirectory. */
function istioDir(): string {
  return dirOf({
    'routing.yaml': ROUTING,
    'gateway.yml': GATEWAY,
    'security/policies.yaml': SECURITY,
    'README.md': '# not read',
  });
}

describe('meshdev import istio', () => {
  it('maps subsets, matches, weights, policies, faults, principals and the ingress into a config', () => {
    const { draft, warnings } = importIstio(readSources([istioDir()]), { name: 'bookinfo' });
    expect(draft.mesh).toEqual({ name: 'bookinfo', namespace: 'bookinfo', mtls: 'permissive' });
    expect(draft.gateway).toEqual({
      port: 8080,
      routes: [
        { path: '/productpage', service: 'productpage' },
        { path: '/static', service: 'productpage' },
        { path: '/api/reviews', service: 'reviews', version: 'v1', stripPrefix: true },
      ],
      auth: { jwt: { local: true } },
    });
    const reviews = draft.services.reviews!;
    expect(Object.keys(reviews.versions!)).toEqual(['v1', 'v2', 'v3']);
    expect(reviews.circuitBreaker).toEqual({
      consecutiveErrors: 3,
      openFor: '90s',
      maxConcurrent: 50,
    });
    // One Istio route with two matches: two meshdev routes with the same policy.
    const testers = {
      name: 'testers',
      to: 'v2',
      timeout: '1500ms',
      retries: {
        attempts: 3,
        perTryTimeout: '500ms',
        retryOn: ['gateway-error', 'connect-failure', 503],
      },
    };
    expect(reviews.routes).toEqual([
      { ...testers, match: { path: '/reviews/*', headers: { 'end-user': 'jason' } } },
      { ...testers, match: { headers: { 'x-group': { regex: '^qa-' } } } },
      { split: { v1: 75, v3: 25 }, mirror: { to: 'v3' } },
    ]);
    expect(reviews.allow).toEqual([
      { from: 'productpage', methods: ['GET'], paths: ['/reviews/*'] },
      'gateway',
    ]);
    expect(draft.services.productpage!.upstreams).toEqual(['reviews']);
    // Two methods in two matches are one route; a fault on every route is the service's.
    expect(draft.services.ratings).toEqual({
      routes: [
        {
          match: { method: ['POST', 'PUT'] },
          faults: [
            { delay: { duration: '7s', percent: 100 }, abort: { status: 503, percent: 12.5 } },
          ],
        },
        {},
      ],
    });

    const said = warnings.map((w) => `${path.basename(w.at)} ${w.message}`);
    expect(said).toEqual(
      expect.arrayContaining([
        'routing.yaml:7:5 spec.trafficPolicy.loadBalancer: meshdev has no equivalent; skipped',
        expect.stringMatching(
          /^routing\.yaml:28:\d+ spec\.http\[0\]\.retries\.retryOn: "refused-stream"/,
        ),
        expect.stringMatching(
          /^routing\.yaml:29:\d+ spec\.http\[1\]\.match\[0\]\.queryParams: meshdev matches on method, path and headers/,
        ),
        expect.stringMatching(
          /^routing\.yaml:50:1 kind: Deployment "reviews-v1": not a resource meshdev imports/,
        ),
        expect.stringMatching(
          /^gateway\.yml:6:\d+ spec\.servers\[0\]\.port\.number: port 80 needs root/,
        ),
        expect.stringMatching(
          /^policies\.yaml:17:\d+ spec\.rules\[2\]\.from\[0\]\.source\.namespaces: meshdev allows callers by identity/,
        ),
        expect.stringMatching(
          /^policies\.yaml:18:\d+ spec\.rules\[3\]\.when: conditions on request attributes/,
        ),
        expect.stringMatching(/^policies\.yaml:24:\d+ spec\.action: DENY/),
      ]),
    );
  });

  it('keeps the faults of the route they are on, and a lone fault route', () => {
    const dir = dirOf({
      'vs.yaml': `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ratings }
spec:
  hosts: [ratings.default.svc.cluster.local]
  http:
    - match: [{ headers: { end-user: { exact: jason } } }]
      fault: { delay: { percentage: { value: 100 }, fixedDelay: 7s } }
      route: [{ destination: { host: ratings, subset: v1 } }]
    - route: [{ destination: { host: ratings, subset: v1 } }]
`,
    });
    const { draft } = importIstio(readSources([dir]), { name: 'x' });
    expect(draft.services.ratings!.routes).toEqual([
      {
        match: { headers: { 'end-user': 'jason' } },
        to: 'v1',
        faults: [{ delay: { duration: '7s', percent: 100 } }],
      },
      { to: 'v1' },
    ]);
  });

  it('lets a later VirtualService of the same name replace an earlier one, as kubectl apply does', () => {
    const vs = (route: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
${route}`;
    const dir = dirOf({
      '1-all-v1.yaml': vs('    - route: [{ destination: { host: reviews, subset: v1 } }]\n'),
      '2-test-v2.yaml': vs(`    - match: [{ headers: { end-user: { exact: jason } } }]
      route: [{ destination: { host: reviews, subset: v2 } }]
    - route: [{ destination: { host: reviews, subset: v3 } }]
`),
      '3-dr.yaml': `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  trafficPolicy: { tls: { mode: ISTIO_MUTUAL } }
  subsets: [{ name: v1 }, { name: v2 }, { name: v3 }]
`,
    });
    const { draft, warnings } = importIstio(readSources([dir]), { name: 'x' });
    expect(draft.services.reviews!.routes).toEqual([
      { match: { headers: { 'end-user': 'jason' } }, to: 'v2' },
      { to: 'v3' },
    ]);
    // ISTIO_MUTUAL is what meshdev does anyway: no warning for it.
    expect(warnings.map((w) => `${path.basename(w.at)} ${w.message}`)).toEqual([
      '2-test-v2.yaml:3:13 metadata.name: replaces the VirtualService read at ' +
        `${path.join(dir, '1-all-v1.yaml')}:3:13`,
    ]);
  });

  it('makes callers named only by a policy into services, and allows nobody for the default account', () => {
    const dir = dirOf({
      'policy.yaml': `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: orders, namespace: shop }
spec:
  selector: { matchLabels: { app: orders } }
  rules:
    - from: [{ source: { principals: [cluster.local/ns/shop/sa/Web_Frontend, cluster.local/ns/shop/sa/default] } }]
`,
    });
    const { draft, warnings } = importIstio(readSources([dir]), { name: 'x' });
    expect(draft.services).toEqual({
      orders: { allow: ['web-frontend'] },
      'web-frontend': { upstreams: ['orders'] },
    });
    expect(warnings.map((w) => w.message)).toEqual([
      "spec.rules[0].from[0].source.principals[1]: cluster.local/ns/shop/sa/default: the namespace's default account names no service; not allowed (fewer calls allowed, never more)",
    ]);
    withPlaceholders(draft);
    expect(() => loadConfigText(newConfigText(draft, ' x'), 'x.yaml', { env: {} })).not.toThrow();
  });

  it('imports Istio’s mirroring task: mirror + mirrorPercentage, or the first of mirrors', () => {
    const vs = (http: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: httpbin }
spec:
  hosts: [httpbin]
  http:
${http}`;
    const imported = (http: string) => {
      const { draft, warnings } = importIstio(readSources([dirOf({ 'vs.yaml': vs(http) })]), {
        name: 'x',
      });
      return { routes: draft.services.httpbin?.routes, warnings: warnings.map((w) => w.message) };
    };
    const task =
      imported(`    - route: [{ destination: { host: httpbin, subset: v1 }, weight: 100 }]
      mirror: { host: httpbin, subset: v2 }
      mirrorPercentage: { value: 50.5 }`);
    expect(task).toEqual({
      routes: [{ to: 'v1', mirror: { to: 'v2', percent: 50.5 } }],
      warnings: [],
    });
    const list =
      imported(`    - route: [{ destination: { host: httpbin.default.svc.cluster.local, subset: v1 } }]
      mirrors:
        - { destination: { host: httpbin, subset: v2 } }
        - { destination: { host: httpbin, subset: v3 }, percentage: { value: 5 } }`);
    expect(list.routes).toEqual([{ to: 'v1', mirror: { to: 'v2' } }]);
    expect(list.warnings).toEqual([
      'spec.http[0].mirrors[1]: meshdev mirrors to one version; only the first is imported',
    ]);
    const elsewhere = imported(`    - route: [{ destination: { host: httpbin, subset: v1 } }]
      mirror: { host: audit }`);
    expect(elsewhere).toEqual({
      routes: [{ to: 'v1' }],
      warnings: [
        'spec.http[0].mirror: mirroring httpbin to audit: meshdev mirrors to a version of the same service; skipped',
      ],
    });
  });

  it('imports a route’s headers operations as they are; unknown parts are warnings', () => {
    const text = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: httpbin }
spec:
  hosts: [httpbin]
  http:
    - route: [{ destination: { host: httpbin, subset: v1 } }]
      headers:
        request: { set: { x-env: dev }, add: { x-tag: mesh }, remove: [x-debug] }
        response: { set: { cache-control: no-store }, rename: { a: b } }
`;
    const { draft, warnings } = importIstio(readSources([dirOf({ 'vs.yaml': text })]), {
      name: 'x',
    });
    expect(draft.services.httpbin!.routes).toEqual([
      {
        to: 'v1',
        headers: {
          request: { set: { 'x-env': 'dev' }, add: { 'x-tag': 'mesh' }, remove: ['x-debug'] },
          response: { set: { 'cache-control': 'no-store' } },
        },
      },
    ]);
    expect(warnings.map((w) => w.message)).toEqual([
      'spec.http[0].headers.response.rename: meshdev has no equivalent; skipped',
    ]);
  });

  it('carries the connection pool of Istio’s circuit-breaking task over as maxConcurrent', () => {
    const rule = (pool: string) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: httpbin }
spec:
  host: httpbin
  trafficPolicy:
    connectionPool: ${pool}
    outlierDetection: { consecutive5xxErrors: 1, interval: 1s, baseEjectionTime: 3m, maxEjectionPercent: 100 }
`;
    const imported = (pool: string) => {
      const { draft, warnings } = importIstio(readSources([dirOf({ 'dr.yaml': rule(pool) })]), {
        name: 'x',
      });
      return { breaker: draft.services.httpbin!.circuitBreaker, warnings };
    };
    // The task's rule: one connection and one pending request — two in flight, the third refused.
    const task = imported(
      '{ tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 1, maxRequestsPerConnection: 1 } }',
    );
    expect(task.breaker).toEqual({ consecutiveErrors: 1, openFor: '3m', maxConcurrent: 2 });
    expect(
      task.warnings.map((w) => `${w.at.replace(/^.*dr\.yaml/, 'dr.yaml')} ${w.message}`),
    ).toEqual([
      'dr.yaml:7:87 spec.trafficPolicy.connectionPool.http.maxRequestsPerConnection: meshdev has no equivalent; skipped',
      'dr.yaml:7:30 spec.trafficPolicy.connectionPool.tcp.maxConnections: maxConnections 1 + http1MaxPendingRequests 1 → circuitBreaker.maxConcurrent 2: meshdev sends the pending calls at once instead of queuing them, and refuses the next with 503 UO as Envoy does',
    ]);
    // The lower of the two caps wins; one of the pair alone caps nothing.
    expect(
      imported(
        '{ tcp: { maxConnections: 10 }, http: { http1MaxPendingRequests: 5, http2MaxRequests: 8 } }',
      ).breaker!.maxConcurrent,
    ).toBe(8);
    const alone = imported('{ tcp: { maxConnections: 4 } }');
    expect(alone.breaker).toEqual({ consecutiveErrors: 1, openFor: '3m' });
    expect(alone.warnings.map((w) => w.message)).toEqual([
      'spec.trafficPolicy.connectionPool.tcp.maxConnections: caps nothing without http1MaxPendingRequests (Envoy queues the rest); skipped',
    ]);
  });

  it('writes a config that loads, with placeholders that answer, and refuses to overwrite one', async () => {
    const project = mkdtempSync(path.join(tmpdir(), 'meshdev-imported-'));
    const run = await runCli(['import', 'istio', istioDir()], { cwd: project });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      /wrote mesh\.config\.yaml: 3 services, 5 routes, 3 gateway routes, 5 simulated placeholders/,
    );
    expect(run.stderr).toMatch(/routing\.yaml:7:5 spec\.trafficPolicy\.loadBalancer/);
    const text = readFileSync(path.join(project, 'mesh.config.yaml'), 'utf8');
    expect(text).toMatch(/^# yaml-language-server: \$schema=/);
    expect(text).toContain('# placeholder: your dev server');
    const validate = await runCli(['validate'], { cwd: project });
    expect(validate.stdout).toMatch(/— ok/);

    // The imported mesh runs: the gateway reaches reviews v1 through its placeholder.
    const mesh = await scope.mesh(text.replace('port: 8080', 'port: 0'));
    const response = await fetch(`${mesh.gateway}/api/reviews/7`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ service: 'reviews', version: 'v1', placeholder: true });

    const again = await runCli(['import', 'istio', istioDir()], { cwd: project });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/mesh\.config\.yaml already exists/);
    expect(again.stderr).toMatch(/--merge/);
    expect(readFileSync(path.join(project, 'mesh.config.yaml'), 'utf8')).toBe(text);
  });

  it('reads stdin with --out -, and --strict fails on what could not be carried over', () => {
    // As `kubectl get vs,dr -o yaml | meshdev import istio - --out -` gives it.
    const run = spawnSync(
      process.execPath,
      [BIN, 'import', 'istio', '-', '--out', '-', '--strict'],
      {
        input: ROUTING,
        encoding: 'utf8',
        timeout: 15_000,
        env: { ...process.env, NO_COLOR: '1' },
      },
    );
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/^version: 1$/m);
    const config = loadConfigText(run.stdout, 'x.yaml', { env: {} });
    expect(config.services.map((service) => service.name)).toEqual(['reviews', 'ratings']);
    expect(run.stderr).toMatch(/stdin:7:5 spec\.trafficPolicy\.loadBalancer/);
    expect(run.stderr).toMatch(/--strict: \d+ things could not be carried over/);
  });

  it('names the file and line of YAML it cannot parse, and refuses an unknown source', async () => {
    const dir = dirOf({ 'bad.yaml': 'kind: VirtualService\nspec: { hosts: [a\n' });
    const bad = await runCli(['import', 'istio', path.join(dir, 'bad.yaml'), '--out', '-']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/bad\.yaml:\d+:\d+ /);
    const unknown = await runCli(['import', 'linkerd', dir, '--out', '-']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/cannot import from "linkerd"[\s\S]*istio, kong/);
  });
});
