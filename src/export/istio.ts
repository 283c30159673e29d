/**
 * `meshdev export --to istio`: the config as Istio resources — per service a
 * VirtualService (matches, weighted routes, timeouts, retries, faults, headers, mirrors) and a
 * DestinationRule (subsets from versions, outlier detection and connection limits from
 * the circuit breaker), an AuthorizationPolicy from `allow`, one PeerAuthentication for
 * the namespace, and a RequestAuthentication for the gateway's JWT issuer. What Istio
 * cannot express is a warning naming the config line, never silently dropped.
 */
import type {
  FaultRule,
  Match,
  MeshConfig,
  RetryPolicy,
  RouteRule,
  ServiceConfig,
} from '../config/model.js';
import { LossyMappings, type ExportWarning } from './lossy.js';
import type { Manifest } from './manifest.js';
import { templateRegex } from './paths.js';

/** Options of an export. */
export interface ExportOptions {
  /** The Kubernetes namespace of the services (default: `mesh.namespace`). */
  namespace?: string;
}

/** What an export produced. */
export interface ExportResult {
  manifests: Manifest[];
  warnings: ExportWarning[];
}

/** Istio's own trust domain: meshdev's default one maps to it. */
const ISTIO_TRUST_DOMAIN = 'cluster.local';
/** The service account of Istio's default ingress gateway (what `gateway` becomes). */
const INGRESS_PRINCIPAL = 'ns/istio-system/sa/istio-ingressgateway-service-account';

/** Exports `config` as Istio resources. */
export function exportIstio(config: MeshConfig, options: ExportOptions = {}): ExportResult {
  const namespace = options.namespace ?? config.mesh.namespace;
  const lossy = new LossyMappings(config.file);
  const trustDomain =
    config.mesh.trustDomain === 'meshdev.local' ? ISTIO_TRUST_DOMAIN : config.mesh.trustDomain;
  const manifests: Manifest[] = [
    {
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: 'default', namespace },
      spec: {
        mtls: {
          mode: { strict: 'STRICT', permissive: 'PERMISSIVE', off: 'DISABLE' }[config.mesh.mtls],
        },
      },
    },
  ];
  for (const service of config.services) {
    manifests.push(virtualService(service, namespace, lossy));
    manifests.push(destinationRule(service, namespace));
    manifests.push(authorizationPolicy(service, namespace, trustDomain));
  }
  const jwt = config.gateway?.auth.jwt;
  if (jwt?.issuer) {
    manifests.push({
      apiVersion: 'security.istio.io/v1',
      kind: 'RequestAuthentication',
      metadata: { name: 'gateway-jwt', namespace: 'istio-system' },
      spec: {
        selector: { matchLabels: { istio: 'ingressgateway' } },
        jwtRules: [
          {
            issuer: jwt.issuer,
            ...(jwt.audience && { audiences: [jwt.audience] }),
            ...(jwt.jwks?.startsWith('http') && { jwksUri: jwt.jwks }),
          },
        ],
      },
    });
    if (jwt.jwks && !jwt.jwks.startsWith('http'))
      lossy.warn(
        ['gateway', 'auth', 'jwt', 'jwks'],
        'a JWKS file: Istio wants a jwksUri (or the keys inline); left for you to add',
      );
  }
  if (jwt?.local)
    lossy.warn(
      ['gateway', 'auth', 'jwt', 'local'],
      "meshdev's development issuer has no place in a cluster; not exported",
    );
  return { manifests, warnings: lossy.warnings };
}

function virtualService(service: ServiceConfig, namespace: string, lossy: LossyMappings): Manifest {
  const host = service.name;
  const base = ['services', service.name];
  const versions = service.instances.map((instance) => instance.version);
  const everyVersion = service.versioned ? evenSplit(host, versions) : [{ destination: { host } }];
  const defaultRoute = service.routes.find((route) => !route.match) ?? undefined;
  const http: Array<Record<string, unknown>> = [];
  // Faults with their own match become routes of their own, first: Istio's faults are per route.
  service.faults.forEach((fault, index) => {
    if (!fault.match) return;
    const injected = istioFault([{ fault, path: [...base, 'faults', index] }], lossy);
    if (!injected) return;
    if (service.routes.some((route) => route.match))
      lossy.warn(
        [...base, 'faults', index, 'match'],
        "a fault with its own match becomes a route of its own in Istio, sent where the default route sends; the service's conditional routes do not apply to those calls",
      );
    http.push({
      name: `fault-${index}`,
      match: istioMatches(fault.match, [...base, 'faults', index, 'match'], lossy),
      fault: injected,
      route: defaultRoute ? destinations(host, defaultRoute) : everyVersion,
      ...policy(service, defaultRoute),
    });
  });
  // Faults without a match apply on every route, unless a route has faults of its own.
  const everyCallFaults = service.faults.flatMap((fault, index) =>
    fault.match ? [] : [{ fault, path: [...base, 'faults', index] }],
  );
  const routes = service.routes.length > 0 ? service.routes : [undefined];
  routes.forEach((route, index) => {
    const path = route ? [...base, 'routes', index] : base;
    const own = route?.faults?.map((fault, f) => ({ fault, path: [...path, 'faults', f] }));
    const fault = istioFault(own ?? everyCallFaults, lossy);
    http.push({
      name: route?.name.startsWith('#') === false ? route.name : `route-${index}`,
      ...(route?.match && { match: istioMatches(route.match, [...path, 'match'], lossy) }),
      route: route ? destinations(host, route) : everyVersion,
      ...policy(service, route),
      ...(fault && { fault }),
      ...(route?.headers && { headers: route.headers }),
      ...(route?.mirror && {
        mirror: { host, subset: route.mirror.to },
        mirrorPercentage: { value: route.mirror.percent },
      }),
    });
  });
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: host, namespace },
    spec: { hosts: [host], http },
  };
}

/** Timeout and retries of a route: its own, else the service's (Istio's default: 0 = none). */
function policy(service: ServiceConfig, route: RouteRule | undefined): Record<string, unknown> {
  const timeoutMs = route?.timeoutMs ?? service.timeoutMs;
  const retries = route?.retries ?? service.retries;
  return {
    ...(timeoutMs !== undefined && { timeout: seconds(timeoutMs) }),
    ...(retries && { retries: istioRetries(retries) }),
  };
}

function istioRetries(retries: RetryPolicy): Record<string, unknown> {
  return {
    attempts: retries.attempts,
    ...(retries.perTryTimeoutMs !== undefined && {
      perTryTimeout: seconds(retries.perTryTimeoutMs),
    }),
    // Envoy's retry-on names are meshdev's; status codes are listed as they are.
    retryOn: retries.retryOn.map(String).join(','),
  };
}

/** Where a route sends: one subset, or weighted subsets. */
function destinations(host: string, route: RouteRule): Array<Record<string, unknown>> {
  if (route.split)
    return route.split.map((entry) => ({
      destination: { host, subset: entry.version },
      weight: entry.weight,
    }));
  return [{ destination: { host, ...(route.to && { subset: route.to }) } }];
}

/** Every version with an equal share (integers summing to 100), as meshdev routes by default. */
function evenSplit(host: string, versions: readonly string[]): Array<Record<string, unknown>> {
  const share = Math.floor(100 / versions.length);
  return versions.map((version, index) => ({
    destination: { host, subset: version },
    weight: share + (index < 100 - share * versions.length ? 1 : 0),
  }));
}

/** One Istio match per method (Istio matches one method; a list of matches is an OR). */
function istioMatches(
  match: Match,
  path: readonly PropertyKey[],
  lossy: LossyMappings,
): Array<Record<string, unknown>> {
  const uri = match.path === undefined ? undefined : istioPath(match.path);
  const headers: Record<string, unknown> = {};
  const withoutHeaders: Record<string, unknown> = {};
  for (const [name, rule] of Object.entries(match.headers ?? {})) {
    if (rule.regex !== undefined) headers[name] = { regex: rule.regex };
    else if (rule.present === true) headers[name] = { regex: '.*' };
    else if (rule.present === false) withoutHeaders[name] = { regex: '.*' };
    else headers[name] = { exact: rule.exact ?? '' };
  }
  if (match.headers && Object.values(match.headers).some((rule) => rule.regex !== undefined))
    lossy.warn(
      [...path, 'headers'],
      'header regexes: meshdev uses JavaScript regexes, Istio RE2 — check the pattern means the same',
    );
  const common = {
    ...(uri && { uri }),
    ...(Object.keys(headers).length > 0 && { headers }),
    ...(Object.keys(withoutHeaders).length > 0 && { withoutHeaders }),
  };
  const methods = match.methods ?? [];
  if (methods.length === 0) return [common];
  return methods.map((method) => ({ ...common, method: { exact: method } }));
}

/** `/charges` exact, `/api/*` prefix, `/items/:id` a regex of one segment per parameter. */
function istioPath(path: string): Record<string, string> {
  if (path.endsWith('/*')) return { prefix: path.slice(0, -1) };
  if (!path.includes(':')) return { exact: path };
  return { regex: templateRegex(path) };
}

/**
 * One Istio fault from meshdev's: the first delay and the first abort (Istio has one of
 * each per route); resets, bandwidth and a second delay or abort are warnings.
 */
function istioFault(
  faults: ReadonlyArray<{ fault: FaultRule; path: readonly PropertyKey[] }>,
  lossy: LossyMappings,
): Record<string, unknown> | undefined {
  let delay: Record<string, unknown> | undefined;
  let abort: Record<string, unknown> | undefined;
  faults.forEach(({ fault, path: at }) => {
    if (fault.delay) {
      if (delay)
        lossy.warn([...at, 'delay'], 'a second delay on one route: Istio has one; skipped');
      else {
        const fixedMs = 'fixedMs' in fault.delay ? fault.delay.fixedMs : fault.delay.p50Ms;
        if (!('fixedMs' in fault.delay))
          lossy.warn(
            [...at, 'delay'],
            `a delay distribution (p50/p99): Istio delays by a fixed time; exported as its p50, ${fixedMs}ms`,
          );
        delay = { fixedDelay: seconds(fixedMs), percentage: { value: fault.delay.percent } };
      }
    }
    if (fault.abort) {
      if (abort)
        lossy.warn([...at, 'abort'], 'a second abort on one route: Istio has one; skipped');
      else abort = { httpStatus: fault.abort.status, percentage: { value: fault.abort.percent } };
    }
    if (fault.reset) lossy.warn([...at, 'reset'], 'reset fault: Istio has no equivalent; skipped');
    if (fault.bandwidth)
      lossy.warn([...at, 'bandwidth'], 'bandwidth fault: Istio has no equivalent; skipped');
  });
  if (!delay && !abort) return undefined;
  return { ...(delay && { delay }), ...(abort && { abort }) };
}

function destinationRule(service: ServiceConfig, namespace: string): Manifest {
  const breaker = service.circuitBreaker;
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name: service.name, namespace },
    spec: {
      host: service.name,
      ...(breaker && {
        trafficPolicy: {
          outlierDetection: {
            consecutive5xxErrors: breaker.consecutiveErrors,
            interval: '10s',
            baseEjectionTime: seconds(breaker.openForMs),
            maxEjectionPercent: 100,
          },
          ...(breaker.maxConcurrent !== undefined && {
            connectionPool: { http: { http2MaxRequests: breaker.maxConcurrent } },
          }),
        },
      }),
      ...(service.versioned && {
        subsets: service.instances.map((instance) => ({
          name: instance.version,
          labels: { version: instance.version },
        })),
      }),
    },
  };
}

function authorizationPolicy(
  service: ServiceConfig,
  namespace: string,
  trustDomain: string,
): Manifest {
  const principal = (from: string) =>
    from === 'gateway'
      ? `${trustDomain}/${INGRESS_PRINCIPAL}`
      : `${trustDomain}/ns/${namespace}/sa/${from}`;
  const rules = service.allow.map((rule) => ({
    ...(rule.from !== '*' && { from: [{ source: { principals: [principal(rule.from)] } }] }),
    ...((rule.methods || rule.paths) && {
      to: [
        {
          operation: {
            ...(rule.methods && { methods: [...rule.methods] }),
            ...(rule.paths && { paths: [...rule.paths] }),
          },
        },
      ],
    }),
  }));
  // No caller allowed: an ALLOW policy without rules denies every call, as meshdev does.
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: service.name, namespace },
    spec: {
      selector: { matchLabels: { app: service.name } },
      action: 'ALLOW',
      ...(rules.length > 0 && { rules }),
    },
  };
}

/** A duration as Istio writes it: seconds with an `s` (`0.5s`, `3s`). */
function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}
