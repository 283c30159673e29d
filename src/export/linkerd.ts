/**
 * `meshdev export --to linkerd`: per service an HTTPRoute (policy.linkerd.io/v1beta3,
 * parented to the Service: matches, weighted backends — one Service per version,
 * `<service>-<version>` —, request and per-try timeouts, retries as Linkerd's retry
 * annotations), a Server, a MeshTLSAuthentication of the callers `allow` names and an
 * AuthorizationPolicy tying them. Linkerd has no fault injection: every fault is a
 * warning at its config line, never silently dropped.
 */
import type {
  HeaderOperations,
  Match,
  MeshConfig,
  RetryPolicy,
  RouteRule,
  ServiceConfig,
} from '../config/model.js';
import type { ExportOptions, ExportResult } from './istio.js';
import { LossyMappings, warnMirrors } from './lossy.js';
import type { Manifest } from './manifest.js';
import { templateRegex } from './paths.js';

const POLICY = 'policy.linkerd.io';

/** Exports `config` as Linkerd policy resources. */
export function exportLinkerd(config: MeshConfig, options: ExportOptions = {}): ExportResult {
  const namespace = options.namespace ?? config.mesh.namespace;
  const lossy = new LossyMappings(config.file);
  if (config.mesh.mtls !== 'strict')
    lossy.warn(
      ['mesh', 'mtls'],
      `mtls: ${config.mesh.mtls} — Linkerd always uses mTLS between meshed pods; the Servers below refuse what is not authorized`,
    );
  const manifests: Manifest[] = [];
  for (const service of config.services) {
    warnMirrors(service, lossy, 'Linkerd');
    manifests.push(httpRoute(service, namespace, lossy));
    manifests.push(...authorization(service, namespace, lossy));
  }
  return { manifests, warnings: lossy.warnings };
}

function httpRoute(service: ServiceConfig, namespace: string, lossy: LossyMappings): Manifest {
  const base = ['services', service.name];
  service.faults.forEach((_fault, index) =>
    lossy.warn([...base, 'faults', index], 'fault injection: Linkerd has none; skipped'),
  );
  const routes = service.routes.length > 0 ? service.routes : [undefined];
  const retries = service.retries;
  if (service.routes.some((route) => route.retries))
    lossy.warn(
      [...base, 'routes'],
      "a route's own retries: Linkerd's retry annotations are per HTTPRoute; the service's are exported",
    );
  const rules = routes.map((route, index) => {
    route?.faults?.forEach((_fault, f) =>
      lossy.warn(
        [...base, 'routes', index, 'faults', f],
        'fault injection: Linkerd has none; skipped',
      ),
    );
    if (route?.headers?.response)
      lossy.warn(
        [...base, 'routes', index, 'headers', 'response'],
        "answer headers: Linkerd's HTTPRoute changes request headers only; skipped",
      );
    const timeoutMs = route?.timeoutMs ?? service.timeoutMs;
    const perTry = (route?.retries ?? retries)?.perTryTimeoutMs;
    return {
      ...(route?.match && {
        matches: linkerdMatches(route.match, [...base, 'routes', index, 'match'], lossy),
      }),
      ...(route?.headers?.request && {
        filters: [
          {
            type: 'RequestHeaderModifier',
            requestHeaderModifier: linkerdHeaderModifier(route.headers.request),
          },
        ],
      }),
      backendRefs: backends(service, route),
      ...((timeoutMs !== undefined || perTry !== undefined) && {
        timeouts: {
          ...(timeoutMs !== undefined && { request: duration(timeoutMs) }),
          ...(perTry !== undefined && { backendRequest: duration(perTry) }),
        },
      }),
    };
  });
  return {
    apiVersion: `${POLICY}/v1beta3`,
    kind: 'HTTPRoute',
    metadata: {
      name: service.name,
      namespace,
      ...(retries && { annotations: retryAnnotations(retries) }),
    },
    spec: {
      parentRefs: [{ group: 'core', kind: 'Service', name: service.name, port: 80 }],
      rules,
    },
  };
}

/** Linkerd 2.16's retry annotations of an HTTPRoute. */
function retryAnnotations(retries: RetryPolicy): Record<string, string> {
  const statuses = retries.retryOn.filter((on): on is number => typeof on === 'number');
  const conditions = retries.retryOn
    .map((on) => (on === '5xx' ? '5xx' : on === 'gateway-error' ? 'gateway-error' : undefined))
    .filter(Boolean);
  return {
    'retry.linkerd.io/http': [...conditions, ...statuses.map(String)].join(',') || '5xx',
    'retry.linkerd.io/limit': String(retries.attempts),
    ...(retries.perTryTimeoutMs !== undefined && {
      'retry.linkerd.io/timeout': duration(retries.perTryTimeoutMs),
    }),
  };
}

/** Backends: the Service of each version (`reviews-v2`), weighted; or the service itself. */
function backends(
  service: ServiceConfig,
  route: RouteRule | undefined,
): Array<Record<string, unknown>> {
  const ref = (name: string, weight?: number) => ({
    name,
    port: 80,
    ...(weight !== undefined && { weight }),
  });
  if (!service.versioned) return [ref(service.name)];
  if (route?.split)
    return route.split.map((entry) => ref(`${service.name}-${entry.version}`, entry.weight));
  if (route?.to) return [ref(`${service.name}-${route.to}`)];
  return service.instances.map((instance) => ref(`${service.name}-${instance.version}`, 1));
}

/** Gateway API matches: one per method; `/p` exact, `/p/*` prefix, `/p/:id` a regex. */
function linkerdMatches(
  match: Match,
  path: readonly PropertyKey[],
  lossy: LossyMappings,
): Array<Record<string, unknown>> {
  const uri = match.path === undefined ? undefined : linkerdPath(match.path);
  const headers = Object.entries(match.headers ?? {}).flatMap(([name, rule]) => {
    if (rule.regex !== undefined) return [{ type: 'RegularExpression', name, value: rule.regex }];
    if (rule.present === true) return [{ type: 'RegularExpression', name, value: '.*' }];
    if (rule.present === false) {
      lossy.warn(
        [...path, 'headers', name],
        'a header that must be absent: Gateway API matches cannot say so; skipped',
      );
      return [];
    }
    return [{ type: 'Exact', name, value: rule.exact ?? '' }];
  });
  const common = { ...(uri && { path: uri }), ...(headers.length > 0 && { headers }) };
  const methods = match.methods ?? [];
  if (methods.length === 0) return [common];
  return methods.map((method) => ({ ...common, method }));
}

function linkerdPath(path: string): Record<string, string> {
  if (path.endsWith('/*')) return { type: 'PathPrefix', value: path.slice(0, -2) || '/' };
  if (!path.includes(':')) return { type: 'Exact', value: path };
  return { type: 'RegularExpression', value: templateRegex(path) };
}

/** Server, MeshTLSAuthentication and AuthorizationPolicy of one service's `allow`. */
function authorization(
  service: ServiceConfig,
  namespace: string,
  lossy: LossyMappings,
): Manifest[] {
  const identity = (from: string) =>
    from === '*'
      ? '*'
      : from === 'gateway'
        ? `*.${namespace}.serviceaccount.identity.linkerd.cluster.local`
        : `${from}.${namespace}.serviceaccount.identity.linkerd.cluster.local`;
  service.allow.forEach((rule, index) => {
    if (rule.methods || rule.paths)
      lossy.warn(
        ['services', service.name, 'allow', index],
        'methods and paths of an allow rule: exported per Server (whole service); Linkerd can narrow it per HTTPRoute',
      );
    if (rule.from === 'gateway')
      lossy.warn(
        ['services', service.name, 'allow', index],
        "the gateway: Linkerd's ingress has no fixed identity; any workload of the namespace is allowed in its place",
      );
  });
  const identities = [...new Set(service.allow.map((rule) => identity(rule.from)))];
  const meta = (name: string) => ({ name, namespace });
  const manifests: Manifest[] = [
    {
      apiVersion: `${POLICY}/v1beta3`,
      kind: 'Server',
      metadata: meta(service.name),
      spec: {
        podSelector: { matchLabels: { app: service.name } },
        port: 'http',
        proxyProtocol: 'HTTP/1',
        accessPolicy: 'deny',
      },
    },
  ];
  // No caller allowed: no authorization at all, and the Server denies every call.
  if (identities.length === 0) return manifests;
  manifests.push(
    {
      apiVersion: `${POLICY}/v1alpha1`,
      kind: 'MeshTLSAuthentication',
      metadata: meta(`${service.name}-callers`),
      spec: { identities },
    },
    {
      apiVersion: `${POLICY}/v1alpha1`,
      kind: 'AuthorizationPolicy',
      metadata: meta(service.name),
      spec: {
        targetRef: { group: POLICY, kind: 'Server', name: service.name },
        requiredAuthenticationRefs: [
          { group: POLICY, kind: 'MeshTLSAuthentication', name: `${service.name}-callers` },
        ],
      },
    },
  );
  return manifests;
}

/** A Gateway API duration: `500ms`, `10s`. */
function duration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** Gateway API's header modifier: lists of `{name, value}` where meshdev has maps. */
function linkerdHeaderModifier(operations: HeaderOperations): Record<string, unknown> {
  const pairs = (map: Readonly<Record<string, string>> | undefined) =>
    Object.entries(map ?? {}).map(([name, value]) => ({ name, value }));
  return {
    ...(operations.set && { set: pairs(operations.set) }),
    ...(operations.add && { add: pairs(operations.add) }),
    ...(operations.remove && { remove: [...operations.remove] }),
  };
}
