/**
 * `meshdev import istio`: VirtualServices, DestinationRules, AuthorizationPolicies,
 * PeerAuthentications and Gateways read into a config — subsets become versions,
 * weighted destinations splits, header/path/method matches routes, per-route timeouts,
 * retries and faults the routes' own, outlier detection a circuit breaker, ALLOW rules
 * `allow` (principals mapped back to services). Whatever has no meshdev equivalent is a
 * warning at its file:line, never dropped in silence.
 */
import {
  addVersion,
  dnsLabel,
  percents,
  serviceOf,
  type DraftConfig,
  type DraftFault,
  type DraftMatch,
  type DraftRetries,
  type DraftRoute,
  type DraftService,
} from './draft.js';
import { meshDuration } from './durations.js';
import { isLoopbackUrl } from '../lib/loopback.js';
import { escapeRegex } from '../lib/regex.js';
import { ImportNotes, type ImportWarning } from './notes.js';
import { isObject, type SourceObject } from './source.js';

/** Options of an import. */
export interface ImportOptions {
  /** `mesh.name` of the config written. */
  name: string;
}

/** What an import produced. */
export interface ImportResult {
  draft: DraftConfig;
  warnings: ImportWarning[];
}

/** The service account of Istio's ingress gateway: calls from it come from `gateway`. */
const INGRESS_ACCOUNT = /\/ns\/istio-system\/sa\/istio-ingressgateway(-service-account)?$/;
/** Retry conditions meshdev shares with Envoy. */
const RETRY_ON = ['5xx', 'gateway-error', 'reset', 'connect-failure'];

type Kind = (source: SourceObject, context: IstioImport) => void;

/** The kinds read, in the order that lets later ones find what earlier ones made. */
const KINDS: ReadonlyArray<[string, Kind]> = [
  ['networking.istio.io/Gateway', (source, context) => context.gatewayResource(source)],
  ['networking.istio.io/DestinationRule', (source, context) => context.destinationRule(source)],
  ['networking.istio.io/VirtualService', (source, context) => context.virtualService(source)],
  ['security.istio.io/PeerAuthentication', (source, context) => context.peerAuthentication(source)],
  ['security.istio.io/AuthorizationPolicy', (source, context) => context.authorization(source)],
  [
    'security.istio.io/RequestAuthentication',
    (source, context) => context.requestAuthentication(source),
  ],
];

/** Reads Istio resources into a config. */
export function importIstio(
  objects: readonly SourceObject[],
  options: ImportOptions,
): ImportResult {
  const context = new IstioImport(options.name);
  for (const [kind, read] of KINDS)
    for (const source of objects) if (kindOf(source) === kind) read(source, context);
  for (const source of objects) {
    if (KINDS.some(([kind]) => kind === kindOf(source))) continue;
    context.notes.warn(
      source,
      ['kind'],
      `${String(source.value.kind ?? 'an object without a kind')} ${nameOf(source)}: not a resource meshdev imports; skipped`,
    );
  }
  context.finish();
  return { draft: context.draft, warnings: context.notes.warnings };
}

/** `networking.istio.io/VirtualService` for any of its versions. */
function kindOf(source: SourceObject): string {
  const group = String(source.value.apiVersion ?? '').split('/')[0];
  return `${group}/${String(source.value.kind)}`;
}

function nameOf(source: SourceObject): string {
  const metadata = source.value.metadata;
  return isObject(metadata) && typeof metadata.name === 'string' ? `"${metadata.name}"` : '';
}

class IstioImport {
  readonly notes = new ImportNotes();
  readonly draft: DraftConfig;
  /** Callers seen in `allow`, by callee: they become the callers' upstreams. */
  private readonly callers = new Map<string, Set<string>>();
  private namespace: string | undefined;
  /** The VirtualService whose routes a service has, by its name and namespace. */
  private readonly routedBy = new Map<string, { resource: string; at: string }>();

  constructor(name: string) {
    this.draft = { version: 1, mesh: { name }, services: {} };
  }

  /** A host (`reviews`, `reviews.shop.svc.cluster.local`) as a service name. */
  private service(host: unknown, source: SourceObject, path: PropertyKey[]): string | undefined {
    if (typeof host !== 'string' || host === '') {
      this.notes.warn(source, path, 'no host: nothing to import here');
      return undefined;
    }
    if (host.includes('*')) {
      this.notes.warn(source, path, `host ${host}: a wildcard host is not a service; skipped`);
      return undefined;
    }
    const parts = host.split('.');
    const local =
      parts.length === 1 ||
      parts.length === 2 ||
      host.endsWith('.svc') ||
      host.endsWith('.svc.cluster.local');
    if (!local) {
      this.notes.warn(
        source,
        path,
        `host ${host}: outside the cluster; meshdev routes services; skipped`,
      );
      return undefined;
    }
    if (parts.length > 1) this.namespace ??= parts[1];
    return dnsLabel(parts[0]!);
  }

  private metadataNamespaceOf(source: SourceObject): string {
    const metadata = source.value.metadata;
    return isObject(metadata) && typeof metadata.namespace === 'string' ? metadata.namespace : '';
  }

  private metadataNamespace(source: SourceObject): void {
    this.namespace ??= this.metadataNamespaceOf(source) || undefined;
  }

  gatewayResource(source: SourceObject): void {
    const spec = specOf(source, this.notes);
    this.notes.unknownFields(source, ['spec'], spec, ['selector', 'servers']);
    const servers = Array.isArray(spec.servers) ? spec.servers : [];
    const port = servers
      .map((server) => (isObject(server) && isObject(server.port) ? server.port.number : undefined))
      .find((number) => typeof number === 'number');
    this.draft.gateway ??= { port: 8080, routes: [] };
    if (typeof port === 'number' && port >= 1024) this.draft.gateway.port = port;
    else if (typeof port === 'number')
      this.notes.warn(
        source,
        ['spec', 'servers', 0, 'port', 'number'],
        `port ${port} needs root on a laptop; the gateway listens on 8080`,
      );
    servers.forEach((server, index) => {
      if (
        isObject(server) &&
        (server.tls || (isObject(server.port) && /^HTTPS$/i.test(String(server.port.protocol))))
      )
        this.notes.warn(
          source,
          ['spec', 'servers', index, 'tls'],
          "TLS at the ingress: meshdev's gateway serves HTTPS with `gateway.tls: true` and its own CA; not carried over",
        );
    });
  }

  destinationRule(source: SourceObject): void {
    this.metadataNamespace(source);
    const spec = specOf(source, this.notes);
    this.notes.unknownFields(source, ['spec'], spec, ['host', 'subsets', 'trafficPolicy']);
    const name = this.service(spec.host, source, ['spec', 'host']);
    if (!name) return;
    const service = serviceOf(this.draft, name);
    const subsets = Array.isArray(spec.subsets) ? spec.subsets : [];
    subsets.forEach((subset, index) => {
      if (!isObject(subset) || typeof subset.name !== 'string') return;
      addVersion(service, subset.name);
      this.notes.unknownFields(
        source,
        ['spec', 'subsets', index],
        subset,
        ['name', 'labels'],
        'per-subset policy: meshdev sets policy per service; skipped',
      );
    });
    if (isObject(spec.trafficPolicy)) this.trafficPolicy(source, spec.trafficPolicy, service);
  }

  private trafficPolicy(
    source: SourceObject,
    policy: Record<string, unknown>,
    service: DraftService,
  ): void {
    const at = ['spec', 'trafficPolicy'];
    this.notes.unknownFields(source, at, policy, ['outlierDetection', 'connectionPool', 'tls']);
    // ISTIO_MUTUAL is what meshdev's mesh does on every hop; anything else is not.
    if (isObject(policy.tls) && policy.tls.mode !== 'ISTIO_MUTUAL')
      this.notes.warn(
        source,
        [...at, 'tls', 'mode'],
        `${String(policy.tls.mode)}: meshdev sets mTLS for the whole mesh (mesh.mtls); not applied`,
      );
    const outlier = policy.outlierDetection;
    if (isObject(outlier)) {
      this.notes.unknownFields(source, [...at, 'outlierDetection'], outlier, [
        'consecutive5xxErrors',
        'consecutiveGatewayErrors',
        'consecutiveErrors',
        'baseEjectionTime',
        'interval',
        'maxEjectionPercent',
      ]);
      const errors =
        outlier.consecutive5xxErrors ??
        outlier.consecutiveGatewayErrors ??
        outlier.consecutiveErrors;
      service.circuitBreaker = {
        ...(typeof errors === 'number' && errors > 0 && { consecutiveErrors: errors }),
        ...(meshDuration(outlier.baseEjectionTime) && {
          openFor: meshDuration(outlier.baseEjectionTime),
        }),
      };
      if (outlier.maxEjectionPercent !== undefined && outlier.maxEjectionPercent !== 100)
        this.notes.warn(
          source,
          [...at, 'outlierDetection', 'maxEjectionPercent'],
          "meshdev's breaker opens for the whole service (100%)",
        );
    }
    const pool = policy.connectionPool;
    if (isObject(pool)) {
      const maxConcurrent = this.connectionPoolCap(source, [...at, 'connectionPool'], pool);
      if (maxConcurrent !== undefined) {
        service.circuitBreaker = { ...service.circuitBreaker, maxConcurrent };
        if (!isObject(outlier))
          this.notes.warn(
            source,
            [...at, 'connectionPool'],
            "meshdev's circuit breaker also opens after 5 consecutive errors (no outlier detection here)",
          );
      }
    }
  }

  /**
   * The calls in flight a `connectionPool` allows, as `circuitBreaker.maxConcurrent`: Envoy
   * answers 503 (`UO`) past `http2MaxRequests` active requests (any protocol), and past
   * `tcp.maxConnections` busy HTTP/1.1 connections plus `http1MaxPendingRequests` waiting
   * for one — what Istio's circuit-breaking task trips with fortio. One of the last two
   * alone caps nothing (the other is unlimited in Istio). meshdev holds no queue: the
   * pending request is sent at once, the next one refused at once, as in Envoy.
   */
  private connectionPoolCap(
    source: SourceObject,
    at: readonly string[],
    pool: Record<string, unknown>,
  ): number | undefined {
    this.notes.unknownFields(source, at, pool, ['http', 'tcp']);
    const http = isObject(pool.http) ? pool.http : {};
    const tcp = isObject(pool.tcp) ? pool.tcp : {};
    this.notes.unknownFields(source, [...at, 'http'], http, [
      'http2MaxRequests',
      'http1MaxPendingRequests',
    ]);
    this.notes.unknownFields(source, [...at, 'tcp'], tcp, ['maxConnections']);
    const caps: number[] = [];
    if (positive(http.http2MaxRequests)) caps.push(http.http2MaxRequests);
    const connections = tcp.maxConnections;
    const pending = http.http1MaxPendingRequests;
    if (positive(connections) && positive(pending)) {
      caps.push(connections + pending);
      this.notes.warn(
        source,
        [...at, 'tcp', 'maxConnections'],
        `maxConnections ${connections} + http1MaxPendingRequests ${pending} → circuitBreaker.maxConcurrent ${connections + pending}: meshdev sends the pending calls at once instead of queuing them, and refuses the next with 503 UO as Envoy does`,
      );
    } else if (positive(connections) || positive(pending)) {
      const [field, other] = positive(connections)
        ? ['tcp.maxConnections', 'http1MaxPendingRequests']
        : ['http.http1MaxPendingRequests', 'tcp.maxConnections'];
      this.notes.warn(
        source,
        [...at, ...field.split('.')],
        `caps nothing without ${other} (Envoy queues the rest); skipped`,
      );
    }
    return caps.length > 0 ? Math.min(...caps) : undefined;
  }

  virtualService(source: SourceObject): void {
    this.metadataNamespace(source);
    const spec = specOf(source, this.notes);
    this.notes.unknownFields(source, ['spec'], spec, ['hosts', 'gateways', 'http']);
    const gateways = Array.isArray(spec.gateways) ? spec.gateways.map(String) : ['mesh'];
    const http = Array.isArray(spec.http) ? spec.http : [];
    if (gateways.some((gateway) => gateway !== 'mesh')) this.gatewayRoutes(source, http);
    if (!gateways.includes('mesh')) return;
    const hosts = Array.isArray(spec.hosts) ? spec.hosts : [];
    if (hosts.length > 1)
      this.notes.warn(
        source,
        ['spec', 'hosts', 1],
        'several hosts: meshdev gives each service its own routes; only the first is imported',
      );
    const name = this.service(hosts[0], source, ['spec', 'hosts', 0]);
    if (!name) return;
    const service = serviceOf(this.draft, name);
    const routes: DraftRoute[] = [];
    http.forEach((entry, index) => {
      if (isObject(entry))
        routes.push(...this.httpRoute(source, ['spec', 'http', index], entry, name, service));
    });
    // Two VirtualServices of one name: the later is what `kubectl apply` leaves in force.
    const resource = `${nameOf(source)}@${this.metadataNamespaceOf(source)}`;
    const before = this.routedBy.get(name);
    if (before?.resource === resource) {
      this.notes.warn(
        source,
        ['metadata', 'name'],
        `replaces the VirtualService read at ${before.at}`,
      );
      service.routes = routes;
    } else {
      if (before)
        this.notes.warn(
          source,
          ['spec', 'hosts', 0],
          `a second VirtualService for ${name} (the first at ${before.at}): Istio picks one; its routes are put after the first's`,
        );
      service.routes = [...(service.routes ?? []), ...routes];
    }
    this.routedBy.set(name, { resource, at: source.at(['metadata', 'name']) });
  }

  /** One `http` entry: a meshdev route per match (one when only methods differ). */
  private httpRoute(
    source: SourceObject,
    at: PropertyKey[],
    entry: Record<string, unknown>,
    host: string,
    service: DraftService,
  ): DraftRoute[] {
    this.notes.unknownFields(source, at, entry, [
      'name',
      'match',
      'route',
      'timeout',
      'retries',
      'fault',
      'mirror',
      'mirrorPercentage',
      'mirrorPercent',
      'mirrors',
      'headers',
    ]);
    const destination = this.destinations(source, [...at, 'route'], entry.route, host, service);
    if (!destination) return [];
    const mirror = this.mirror(source, at, entry, host, service);
    const policy: DraftRoute = {
      ...(typeof entry.name === 'string' && { name: entry.name }),
      ...destination,
      ...(meshDuration(entry.timeout) && { timeout: meshDuration(entry.timeout) }),
      ...(isObject(entry.retries) && {
        retries: this.retries(source, [...at, 'retries'], entry.retries),
      }),
    };
    const faults = isObject(entry.fault)
      ? this.fault(source, [...at, 'fault'], entry.fault)
      : undefined;
    if (faults) policy.faults = [faults];
    if (mirror) policy.mirror = mirror;
    const headers = isObject(entry.headers)
      ? this.headers(source, [...at, 'headers'], entry.headers)
      : undefined;
    if (headers) policy.headers = headers;
    if (!Array.isArray(entry.match) || entry.match.length === 0) return [policy];
    const matches = entry.match.flatMap((match, index) => {
      const converted = isObject(match)
        ? this.match(source, [...at, 'match', index], match)
        : undefined;
      return converted ? [converted] : [];
    });
    if (matches.length === 0) {
      this.notes.warn(
        source,
        [...at, 'match'],
        'none of its matches can be expressed; the route is skipped',
      );
      return [];
    }
    return mergeMethods(matches).map((match) => ({
      ...policy,
      ...(Object.keys(match).length > 0 && { match }),
    }));
  }

  /** A route's `headers` (`request`/`response`, each `set`/`add`/`remove`): the same in meshdev. */
  private headers(
    source: SourceObject,
    at: PropertyKey[],
    headers: Record<string, unknown>,
  ): DraftRoute['headers'] {
    this.notes.unknownFields(source, at, headers, ['request', 'response']);
    const out: NonNullable<DraftRoute['headers']> = {};
    for (const side of ['request', 'response'] as const) {
      const operations = headers[side];
      if (!isObject(operations)) continue;
      this.notes.unknownFields(source, [...at, side], operations, ['set', 'add', 'remove']);
      const texts = (value: unknown) =>
        isObject(value)
          ? Object.fromEntries(Object.entries(value).map(([name, text]) => [name, String(text)]))
          : undefined;
      const set = texts(operations.set);
      const add = texts(operations.add);
      const remove = Array.isArray(operations.remove) ? operations.remove.map(String) : undefined;
      if (set || add || remove)
        out[side] = { ...(set && { set }), ...(add && { add }), ...(remove && { remove }) };
    }
    return out.request || out.response ? out : undefined;
  }

  /**
   * A route's `mirror` (with `mirrorPercentage`, or the older `mirrorPercent`) or the first
   * of its `mirrors`: a subset of the same host becomes `mirror: {to, percent}`.
   */
  private mirror(
    source: SourceObject,
    at: PropertyKey[],
    entry: Record<string, unknown>,
    host: string,
    service: DraftService,
  ): DraftRoute['mirror'] {
    const list = Array.isArray(entry.mirrors) ? entry.mirrors : [];
    if (list.length > 1)
      this.notes.warn(
        source,
        [...at, 'mirrors', 1],
        'meshdev mirrors to one version; only the first is imported',
      );
    const first = list[0];
    const [destination, path, share] = isObject(entry.mirror)
      ? [entry.mirror, [...at, 'mirror'], entry.mirrorPercentage ?? entry.mirrorPercent]
      : isObject(first) && isObject(first.destination)
        ? [first.destination, [...at, 'mirrors', 0, 'destination'], first.percentage]
        : [undefined, at, undefined];
    if (!destination) return undefined;
    const target = this.service(destination.host, source, [...path, 'host']);
    if (target !== host || typeof destination.subset !== 'string') {
      if (target)
        this.notes.warn(
          source,
          path,
          target !== host
            ? `mirroring ${host} to ${target}: meshdev mirrors to a version of the same service; skipped`
            : 'a mirror without a subset: meshdev mirrors to a version; skipped',
        );
      return undefined;
    }
    addVersion(service, destination.subset);
    const percent = isObject(share) ? share.value : share;
    return {
      to: destination.subset,
      ...(typeof percent === 'number' && percent !== 100 && { percent }),
    };
  }

  private destinations(
    source: SourceObject,
    at: PropertyKey[],
    route: unknown,
    host: string,
    service: DraftService,
  ): Pick<DraftRoute, 'to' | 'split'> | undefined {
    if (!Array.isArray(route) || route.length === 0) {
      this.notes.warn(
        source,
        at.slice(0, -1),
        'no route (a redirect or direct response): meshdev routes to versions; skipped',
      );
      return undefined;
    }
    const weights: Array<[string, number]> = [];
    for (const [index, entry] of route.entries()) {
      if (!isObject(entry) || !isObject(entry.destination)) continue;
      this.notes.unknownFields(source, [...at, index], entry, ['destination', 'weight']);
      const target = this.service(entry.destination.host, source, [
        ...at,
        index,
        'destination',
        'host',
      ]);
      if (target !== host) {
        if (target)
          this.notes.warn(
            source,
            [...at, index, 'destination', 'host'],
            `calls to ${host} sent to ${target}: meshdev routes a service's calls to its own versions; the route is skipped`,
          );
        return undefined;
      }
      const subset = entry.destination.subset;
      if (typeof subset !== 'string') {
        if (route.length > 1)
          this.notes.warn(
            source,
            [...at, index, 'destination'],
            'a weighted destination without a subset: meshdev splits between versions; skipped',
          );
        continue;
      }
      addVersion(service, subset);
      weights.push([
        subset,
        typeof entry.weight === 'number' ? entry.weight : route.length === 1 ? 100 : 0,
      ]);
    }
    if (weights.length === 0) return {};
    if (weights.length === 1) return { to: weights[0]![0] };
    return { split: percents(weights) };
  }

  private match(
    source: SourceObject,
    at: PropertyKey[],
    match: Record<string, unknown>,
  ): DraftMatch | undefined {
    const unknown = Object.keys(match).filter(
      (key) => !['name', 'uri', 'method', 'headers', 'withoutHeaders'].includes(key),
    );
    if (unknown.length > 0) {
      // Dropping a condition would make the route take calls it never took: the match goes.
      for (const key of unknown)
        this.notes.warn(
          source,
          [...at, key],
          'meshdev matches on method, path and headers; this match is skipped',
        );
      return undefined;
    }
    const result: DraftMatch = {};
    if (isObject(match.uri)) {
      const path = pathOf(match.uri);
      if (path === undefined) {
        this.notes.warn(
          source,
          [...at, 'uri'],
          'a path regex beyond /segments/:params: meshdev matches exact, prefix and template paths; this match is skipped',
        );
        return undefined;
      }
      if (path !== '/*') result.path = path;
    }
    if (isObject(match.method)) {
      const methods = methodsOf(match.method);
      if (!methods) {
        this.notes.warn(
          source,
          [...at, 'method'],
          'a method prefix: meshdev matches exact methods; this match is skipped',
        );
        return undefined;
      }
      result.method = methods;
    }
    const headers: NonNullable<DraftMatch['headers']> = {};
    for (const [name, rule] of Object.entries(isObject(match.headers) ? match.headers : {})) {
      const converted = isObject(rule) ? headerRule(rule) : undefined;
      if (converted === undefined) {
        this.notes.warn(
          source,
          [...at, 'headers', name],
          'a header condition meshdev cannot read; this match is skipped',
        );
        return undefined;
      }
      headers[name.toLowerCase()] = converted;
    }
    for (const [name, rule] of Object.entries(
      isObject(match.withoutHeaders) ? match.withoutHeaders : {},
    )) {
      if (!isObject(rule) || rule.regex !== '.*') {
        this.notes.warn(
          source,
          [...at, 'withoutHeaders', name],
          'meshdev can require a header to be absent, not to differ from a value; this match is skipped',
        );
        return undefined;
      }
      headers[name.toLowerCase()] = { present: false };
    }
    if (Object.keys(headers).length > 0) result.headers = headers;
    return result;
  }

  private retries(
    source: SourceObject,
    at: PropertyKey[],
    retries: Record<string, unknown>,
  ): DraftRetries {
    this.notes.unknownFields(source, at, retries, ['attempts', 'perTryTimeout', 'retryOn']);
    const retryOn: Array<string | number> = [];
    for (const condition of String(retries.retryOn ?? '5xx,reset,connect-failure').split(',')) {
      const name = condition.trim();
      if (RETRY_ON.includes(name)) retryOn.push(name);
      else if (/^[2-5]\d\d$/.test(name)) retryOn.push(Number(name));
      else if (name === 'retriable-status-codes')
        continue; // the codes themselves are listed
      else if (name)
        this.notes.warn(
          source,
          [...at, 'retryOn'],
          `"${name}": meshdev retries on 5xx, gateway-error, reset, connect-failure or a status; dropped`,
        );
    }
    return {
      attempts: Math.min(10, typeof retries.attempts === 'number' ? retries.attempts : 2),
      ...(meshDuration(retries.perTryTimeout) && {
        perTryTimeout: meshDuration(retries.perTryTimeout),
      }),
      ...(retryOn.length > 0 && { retryOn }),
    };
  }

  private fault(
    source: SourceObject,
    at: PropertyKey[],
    fault: Record<string, unknown>,
  ): DraftFault | undefined {
    this.notes.unknownFields(source, at, fault, ['delay', 'abort']);
    const result: DraftFault = {};
    if (isObject(fault.delay)) {
      this.notes.unknownFields(source, [...at, 'delay'], fault.delay, [
        'fixedDelay',
        'percentage',
        'percent',
      ]);
      const duration = meshDuration(fault.delay.fixedDelay);
      if (duration) result.delay = { duration, percent: percentOf(fault.delay) };
    }
    if (isObject(fault.abort)) {
      this.notes.unknownFields(
        source,
        [...at, 'abort'],
        fault.abort,
        ['httpStatus', 'percentage', 'percent'],
        'meshdev aborts with an HTTP status; skipped',
      );
      if (typeof fault.abort.httpStatus === 'number')
        result.abort = { status: fault.abort.httpStatus, percent: percentOf(fault.abort) };
    }
    return result.delay || result.abort ? result : undefined;
  }

  /** A VirtualService bound to an ingress Gateway: its matches become gateway routes. */
  private gatewayRoutes(source: SourceObject, http: unknown[]): void {
    this.draft.gateway ??= { port: 8080, routes: [] };
    const routes = this.draft.gateway.routes;
    http.forEach((entry, index) => {
      const at = ['spec', 'http', index];
      if (!isObject(entry)) return;
      this.notes.unknownFields(
        source,
        at,
        entry,
        ['name', 'match', 'route', 'rewrite'],
        'at the gateway meshdev routes by path prefix; skipped',
      );
      const destination =
        Array.isArray(entry.route) &&
        isObject(entry.route[0]) &&
        isObject(entry.route[0].destination)
          ? entry.route[0].destination
          : undefined;
      const service =
        destination &&
        this.service(destination.host, source, [...at, 'route', 0, 'destination', 'host']);
      if (!service) return;
      serviceOf(this.draft, service);
      if (Array.isArray(entry.route) && entry.route.length > 1)
        this.notes.warn(
          source,
          [...at, 'route', 1],
          "weights at the gateway: meshdev's gateway sends to one service (split it in the service's routes)",
        );
      const version = typeof destination.subset === 'string' ? destination.subset : undefined;
      const strip = isObject(entry.rewrite) && entry.rewrite.uri === '/';
      const matches =
        Array.isArray(entry.match) && entry.match.length > 0
          ? entry.match
          : [{ uri: { prefix: '/' } }];
      matches.forEach((match, m) => {
        const uri = isObject(match) && isObject(match.uri) ? match.uri : { prefix: '/' };
        const prefix =
          typeof uri.prefix === 'string'
            ? uri.prefix
            : typeof uri.exact === 'string'
              ? uri.exact
              : undefined;
        if (prefix === undefined) {
          this.notes.warn(
            source,
            [...at, 'match', m, 'uri'],
            'a regex at the gateway: meshdev routes by prefix; skipped',
          );
          return;
        }
        if (typeof uri.exact === 'string')
          this.notes.warn(
            source,
            [...at, 'match', m, 'uri', 'exact'],
            "meshdev's gateway routes by prefix: also takes the paths below it",
          );
        if (routes.some((route) => route.path === prefix)) return;
        if (version) addVersion(serviceOf(this.draft, service), version);
        routes.push({
          path: prefix,
          service,
          ...(version && { version }),
          ...(strip && { stripPrefix: true }),
        });
      });
    });
  }

  peerAuthentication(source: SourceObject): void {
    const spec = specOf(source, this.notes);
    this.notes.unknownFields(source, ['spec'], spec, ['mtls', 'selector']);
    const mode = isObject(spec.mtls) ? spec.mtls.mode : undefined;
    const mtls = { STRICT: 'strict', PERMISSIVE: 'permissive', DISABLE: 'off' }[String(mode)];
    if (!mtls) return;
    if (spec.selector) {
      this.notes.warn(
        source,
        ['spec', 'selector'],
        'mTLS for some workloads: meshdev sets it for the whole mesh; not applied',
      );
      return;
    }
    this.draft.mesh.mtls = mtls;
  }

  /** JWT rules at the ingress: the gateway's JWT settings. */
  requestAuthentication(source: SourceObject): void {
    const spec = specOf(source, this.notes);
    this.notes.unknownFields(source, ['spec'], spec, ['selector', 'jwtRules']);
    const rules = Array.isArray(spec.jwtRules) ? spec.jwtRules.filter(isObject) : [];
    const rule = rules[0];
    if (!rule) return;
    if (!this.draft.gateway) {
      this.notes.warn(
        source,
        ['spec', 'jwtRules'],
        'JWTs checked inside the mesh: meshdev checks them at the gateway, and there is none here; skipped',
      );
      return;
    }
    if (rules.length > 1)
      this.notes.warn(
        source,
        ['spec', 'jwtRules', 1],
        'a second issuer: meshdev trusts one; skipped',
      );
    this.notes.unknownFields(source, ['spec', 'jwtRules', 0], rule, [
      'issuer',
      'audiences',
      'jwksUri',
      'forwardOriginalToken',
    ]);
    const audience = Array.isArray(rule.audiences) ? String(rule.audiences[0]) : undefined;
    const uri = typeof rule.jwksUri === 'string' ? rule.jwksUri : undefined;
    const loopback = uri !== undefined && isLoopbackUrl(uri);
    const auth = (this.draft.gateway.auth ??= {}) as Record<string, unknown>;
    if (loopback) auth.jwt = { issuer: rule.issuer, ...(audience && { audience }), jwks: uri };
    else {
      // The issuer's keys are not reachable from a laptop: meshdev's own issuer stands in.
      auth.jwt = { local: true };
      this.notes.warn(
        source,
        ['spec', 'jwtRules', 0, uri ? 'jwksUri' : 'issuer'],
        `${String(rule.issuer)}: its keys are not on this laptop; meshdev's development issuer stands in (\`meshdev token <consumer>\`)`,
      );
    }
    if (rule.forwardOriginalToken === true) auth.forwardCredentials = true;
  }

  authorization(source: SourceObject): void {
    this.metadataNamespace(source);
    const spec = specOf(source, this.notes);
    this.notes.unknownFields(source, ['spec'], spec, ['selector', 'action', 'rules']);
    const action = spec.action ?? 'ALLOW';
    if (action !== 'ALLOW') {
      this.notes.warn(
        source,
        ['spec', 'action'],
        `${String(action)}: meshdev's allow lists say who may call; skipped`,
      );
      return;
    }
    const labels =
      isObject(spec.selector) && isObject(spec.selector.matchLabels)
        ? spec.selector.matchLabels
        : undefined;
    const selected = labels ? String(labels.app ?? Object.values(labels)[0]) : undefined;
    const targets = selected ? [selected] : Object.keys(this.draft.services);
    if (!selected)
      this.notes.warn(
        source,
        ['spec'],
        `a policy for the whole namespace: applied to each service imported (${targets.join(', ')})`,
      );
    const allow: NonNullable<DraftService['allow']> = [];
    const rules = Array.isArray(spec.rules) ? spec.rules : [];
    rules.forEach((rule, index) => {
      if (isObject(rule)) allow.push(...this.allowRule(source, ['spec', 'rules', index], rule));
    });
    for (const target of targets) {
      const service = serviceOf(this.draft, target);
      service.allow = [...(service.allow ?? []), ...allow];
      for (const entry of allow) {
        const from = typeof entry === 'string' ? entry : entry.from;
        if (from !== '*' && from !== 'gateway')
          (this.callers.get(target) ?? this.callers.set(target, new Set()).get(target)!).add(from);
      }
    }
  }

  private allowRule(
    source: SourceObject,
    at: PropertyKey[],
    rule: Record<string, unknown>,
  ): NonNullable<DraftService['allow']> {
    this.notes.unknownFields(source, at, rule, ['from', 'to', 'when']);
    if (rule.when) {
      this.notes.warn(
        source,
        [...at, 'when'],
        'conditions on request attributes: meshdev cannot check them; the rule is skipped (fewer calls allowed, never more)',
      );
      return [];
    }
    const callers: string[] = [];
    const froms = Array.isArray(rule.from) ? rule.from : [];
    froms.forEach((from, f) => {
      const source_ = isObject(from) && isObject(from.source) ? from.source : {};
      this.notes.unknownFields(
        source,
        [...at, 'from', f, 'source'],
        source_,
        ['principals'],
        'meshdev allows callers by identity; this source is skipped',
      );
      const principals = Array.isArray(source_.principals) ? source_.principals.map(String) : [];
      principals.forEach((principal, p) => {
        const caller = this.caller(principal);
        // Workloads without an account of their own run as `default`: that names no service.
        if (caller !== 'default') callers.push(caller);
        else
          this.notes.warn(
            source,
            [...at, 'from', f, 'source', 'principals', p],
            `${principal}: the namespace's default account names no service; not allowed (fewer calls allowed, never more)`,
          );
      });
    });
    if (froms.length === 0) callers.push('*');
    const operations: Array<{ methods?: string[]; paths?: string[] }> = [];
    const tos = Array.isArray(rule.to) ? rule.to : [];
    tos.forEach((to, t) => {
      const operation = isObject(to) && isObject(to.operation) ? to.operation : {};
      const unknown = Object.keys(operation).filter((key) => key !== 'methods' && key !== 'paths');
      if (unknown.length > 0) {
        // Dropping a condition would allow more than the policy does: the operation goes.
        for (const key of unknown)
          this.notes.warn(
            source,
            [...at, 'to', t, 'operation', key],
            'meshdev allows by method and path; this operation is skipped (fewer calls allowed, never more)',
          );
        return;
      }
      operations.push({
        ...(Array.isArray(operation.methods) && { methods: operation.methods.map(String) }),
        ...(Array.isArray(operation.paths) && { paths: operation.paths.map(String) }),
      });
    });
    if (tos.length === 0) operations.push({});
    if (operations.length === 0) return []; // every operation was skipped: so is the rule
    return callers.flatMap((from) =>
      operations.map((operation) =>
        operation.methods || operation.paths ? { from, ...operation } : from,
      ),
    );
  }

  /** `cluster.local/ns/shop/sa/productpage` → `productpage`; the ingress → `gateway`. */
  private caller(principal: string): string {
    if (principal === '*') return '*';
    if (INGRESS_ACCOUNT.test(principal)) return 'gateway';
    const match = /^([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(principal);
    if (!match) return principal;
    if (match[1] !== 'cluster.local') this.draft.mesh.trustDomain ??= match[1];
    const account = match[3]!;
    // Bookinfo's accounts are `bookinfo-<service>`: the longest known service it ends with.
    const known = Object.keys(this.draft.services)
      .filter((name) => account === name || account.endsWith(`-${name}`))
      .sort((a, b) => b.length - a.length)[0];
    return known ?? dnsLabel(account);
  }

  /** Callers get the callees they are allowed to call as upstreams; the namespace is kept. */
  finish(): void {
    for (const [callee, callers] of this.callers)
      for (const caller of callers) {
        const service = serviceOf(this.draft, caller);
        if (!(service.upstreams ?? []).includes(callee))
          service.upstreams = [...(service.upstreams ?? []), callee];
      }
    if (this.namespace && this.namespace !== 'default') this.draft.mesh.namespace = this.namespace;
    for (const service of Object.values(this.draft.services)) hoistPolicy(service);
  }
}

function specOf(source: SourceObject, notes: ImportNotes): Record<string, unknown> {
  if (isObject(source.value.spec)) return source.value.spec;
  notes.warn(source, ['kind'], 'no spec; nothing to import');
  return {};
}

/** A StringMatch on the URI as a meshdev path: exact, prefix (`/api/*`), or template. */
function pathOf(uri: Record<string, unknown>): string | undefined {
  if (typeof uri.exact === 'string') return uri.exact;
  // `/api*` is Istio's string prefix exactly (`/api/*` also takes `/api` itself).
  if (typeof uri.prefix === 'string') return `${uri.prefix}*`;
  if (typeof uri.regex !== 'string') return undefined;
  // The regex meshdev exports for /items/:id: anchored segments, [^/]+ per parameter.
  const body = /^\^(\/.*)\$$/.exec(uri.regex)?.[1];
  if (!body) return undefined;
  let parameter = 0;
  // `[^/]+` holds a slash of its own: it is set aside before the path is cut into segments.
  const segments = body
    .replaceAll('[^/]+', '\0')
    .split('/')
    .map((segment) => {
      if (segment === '\0') return `:p${++parameter}`;
      if (/[.*+?^${}()|[\]]/.test(segment.replace(/\\./g, '')) || segment.includes('\0'))
        return undefined;
      return segment.replace(/\\(.)/g, '$1');
    });
  return segments.includes(undefined) ? undefined : segments.join('/');
}

function methodsOf(method: Record<string, unknown>): string[] | undefined {
  if (typeof method.exact === 'string') return [method.exact.toUpperCase()];
  if (typeof method.regex !== 'string') return undefined;
  const names = method.regex
    .replace(/^\^?\(?/, '')
    .replace(/\)?\$?$/, '')
    .split('|');
  return names.every((name) => /^[A-Za-z]+$/.test(name))
    ? names.map((n) => n.toUpperCase())
    : undefined;
}

function headerRule(
  rule: Record<string, unknown>,
): string | { regex?: string; present?: boolean } | undefined {
  if (typeof rule.exact === 'string') return rule.exact;
  if (typeof rule.prefix === 'string') return { regex: `^${escapeRegex(rule.prefix)}` };
  if (typeof rule.regex !== 'string') return undefined;
  if (rule.regex === '.*' || rule.regex === '.+') return { present: true };
  // Envoy matches the whole value; meshdev searches, so the regex is anchored.
  const anchored = rule.regex.startsWith('^') && rule.regex.endsWith('$');
  return { regex: anchored ? rule.regex : `^(?:${rule.regex})$` };
}

function percentOf(action: Record<string, unknown>): number {
  if (isObject(action.percentage) && typeof action.percentage.value === 'number')
    return action.percentage.value;
  if (typeof action.percent === 'number') return action.percent;
  return 100; // Istio: without a percentage every request is hit
}

/** Matches that differ only in their method become one match with a list of methods. */
function mergeMethods(matches: DraftMatch[]): DraftMatch[] {
  const merged: DraftMatch[] = [];
  const key = ({ method: _method, ...rest }: DraftMatch) => JSON.stringify(rest);
  for (const match of matches) {
    const same = merged.find(
      (candidate) => key(candidate) === key(match) && candidate.method && match.method,
    );
    if (same)
      same.method = [...same.method!, ...match.method!.filter((m) => !same.method!.includes(m))];
    else merged.push({ ...match });
  }
  return merged;
}

/** Timeout, retries and faults every route shares are the service's, as a user writes them. */
function hoistPolicy(service: DraftService): void {
  const routes = service.routes ?? [];
  if (routes.length === 0) return;
  for (const field of ['timeout', 'retries', 'faults'] as const) {
    const first = JSON.stringify(routes[0]![field]);
    if (first === undefined || !routes.every((route) => JSON.stringify(route[field]) === first))
      continue;
    (service as Record<string, unknown>)[field] = routes[0]![field];
    for (const route of routes) delete route[field];
  }
  // A lone route that only sends everywhere is what meshdev does without routes.
  if (
    routes.length === 1 &&
    Object.keys(routes[0]!).every((key) => key === 'name') &&
    !service.versions
  )
    delete service.routes;
}

/** A count Istio would enforce: a positive integer. */
function positive(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}
