/**
 * `meshdev export --to kong`: the gateway as a decK declarative file (`_format_version:
 * "3.0"`): a service and route per gateway route (an upstream with weighted targets when
 * the service has versions), plugins for what meshdev's edge does — `key-auth`, `jwt`,
 * `cors`, `rate-limiting` per consumer's plan, `acl` for access lists,
 * `request-termination` for a service that aborts every call — and consumers whose keys
 * are `${{ env "DECK_…" }}` references, never the values. What Kong cannot express is a
 * warning at its config line.
 */
import type { MeshConfig, ServiceConfig, WindowLimit } from '../config/model.js';
import { LossyMappings, warnMirrors, type ExportWarning } from './lossy.js';

/** A decK file. */
export interface KongDocument {
  _format_version: '3.0';
  services: Array<Record<string, unknown>>;
  upstreams?: Array<Record<string, unknown>>;
  consumers?: Array<Record<string, unknown>>;
  plugins?: Array<Record<string, unknown>>;
}

/** Kong's rate-limiting windows, in ms (shortest first). */
export const KONG_WINDOWS: ReadonlyArray<[string, number]> = [
  ['second', 1_000],
  ['minute', 60_000],
  ['hour', 3_600_000],
  ['day', 86_400_000],
  ['month', 30 * 86_400_000],
  ['year', 365 * 86_400_000],
];

/** Exports the gateway of `config` as a decK file. */
export function exportKong(config: MeshConfig): {
  document: KongDocument;
  warnings: ExportWarning[];
} {
  const lossy = new LossyMappings(config.file);
  const gateway = config.gateway;
  const document: KongDocument = { _format_version: '3.0', services: [] };
  if (!gateway) {
    lossy.warn([], 'no gateway: Kong is an edge, there is nothing to export');
    return { document, warnings: lossy.warnings };
  }
  const upstreams: Array<Record<string, unknown>> = [];
  const byService = new Map(config.services.map((service) => [service.name, service]));
  gateway.routes.forEach((route, index) => {
    const service = byService.get(route.service)!;
    warnMirrors(service, lossy, 'Kong');
    service.routes.forEach((serviceRoute, r) => {
      if (serviceRoute.headers)
        lossy.warn(
          ['services', service.name, 'routes', r, 'headers'],
          "a service route's headers: Kong changes headers per gateway route (request-transformer); skipped",
        );
    });
    const at = ['gateway', 'routes', index];
    const name = `${route.service}-${index}`;
    const host = upstreamFor(service, route.version, upstreams, lossy);
    const require = route.auth?.require ?? gateway.auth.require;
    const plugins: Array<Record<string, unknown>> = [];
    if (require === 'apiKey' || require === 'any')
      plugins.push(keyAuth(gateway.auth.apiKeys, require));
    if (require === 'jwt' || require === 'any') {
      plugins.push({
        name: 'jwt',
        config: { claims_to_verify: ['exp'], ...(require === 'any' && { anonymous: 'anonymous' }) },
      });
    }
    if (require === 'any')
      lossy.warn(
        [...at],
        'require: any — Kong ORs auth plugins through an anonymous consumer ("anonymous"); create it and refuse it (request-termination) yourself',
      );
    const access = route.auth?.groups ?? [];
    if (access.length > 0) plugins.push({ name: 'acl', config: { allow: [...access] } });
    if (route.auth?.consumers)
      lossy.warn(
        [...at, 'auth', 'consumers'],
        "a list of consumers: Kong's acl plugin allows groups; put them in a group",
      );
    if (route.auth?.scopes)
      lossy.warn(
        [...at, 'auth', 'scopes'],
        'JWT scopes: the OSS jwt plugin does not check them; skipped',
      );
    if (route.rateLimit) {
      const { requests, per } = route.rateLimit;
      plugins.push(rateLimiting({ requests, perMs: per }, [...at, 'rateLimit'], lossy));
    }
    const abort = alwaysAbort(service);
    if (abort !== undefined)
      plugins.push({ name: 'request-termination', config: { status_code: abort } });
    document.services.push({
      name,
      protocol: 'http',
      host,
      port: 80,
      ...(service.timeoutMs !== undefined && {
        read_timeout: service.timeoutMs,
        write_timeout: service.timeoutMs,
        connect_timeout: Math.min(service.timeoutMs, 60_000),
      }),
      ...(service.retries && { retries: service.retries.attempts }),
      routes: [
        {
          name,
          paths: [route.path],
          strip_path: route.stripPrefix,
          preserve_host: gateway.preserveHost,
          ...(plugins.length > 0 && { plugins }),
        },
      ],
    });
  });
  if (upstreams.length > 0) document.upstreams = upstreams;
  const plugins: Array<Record<string, unknown>> = [];
  if (gateway.cors) {
    plugins.push({
      name: 'cors',
      config: {
        origins: [...gateway.cors.origins],
        methods: [...gateway.cors.methods],
        headers: [...gateway.cors.headers],
      },
    });
  }
  const consumers = config.consumers.map((consumer, index) => {
    const plan = consumer.plan ? config.plans[consumer.plan] : undefined;
    const planAt = ['plans', consumer.plan ?? ''];
    if (plan?.rateLimit)
      plugins.push({
        ...rateLimiting(plan.rateLimit, [...planAt, 'rateLimit'], lossy),
        consumer: consumer.name,
      });
    if (plan?.quota)
      plugins.push({
        ...rateLimiting(plan.quota, [...planAt, 'quota'], lossy),
        consumer: consumer.name,
        instance_name: `${consumer.name}-quota`,
      });
    if (consumer.jwtSubject !== consumer.name || gateway.auth.jwt)
      lossy.warn(
        ['consumers', consumer.name],
        "Kong finds a JWT's consumer by its iss claim in jwt_secrets: add one per consumer (meshdev matches the subject)",
      );
    return {
      username: consumer.name,
      ...(consumer.keys.length > 0 && {
        keyauth_credentials: consumer.keys.map((_key, k) => ({
          key: `\${{ env "DECK_${envName(consumer.name)}_KEY${consumer.keys.length > 1 ? `_${k + 1}` : ''}" }}`,
        })),
      }),
      ...(consumer.groups.length > 0 && { acls: consumer.groups.map((group) => ({ group })) }),
      _index: index,
    };
  });
  if (consumers.length > 0) document.consumers = consumers.map(({ _index, ...rest }) => rest);
  if (plugins.length > 0) document.plugins = plugins;
  return { document, warnings: lossy.warnings };
}

/** `ALICE` for consumer `alice`: decK reads it as `DECK_ALICE_KEY`, meshdev as `ALICE_KEY`. */
export function envName(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

function keyAuth(
  apiKeys: { header: string; query?: string },
  require: string,
): Record<string, unknown> {
  return {
    name: 'key-auth',
    config: {
      key_names: [apiKeys.header, ...(apiKeys.query ? [apiKeys.query] : [])],
      key_in_header: true,
      key_in_query: apiKeys.query !== undefined,
      hide_credentials: true,
      ...(require === 'any' && { anonymous: 'anonymous' }),
    },
  };
}

/** A window limit as Kong's rate-limiting: the window it names, else the nearest one. */
function rateLimiting(
  limit: WindowLimit,
  path: readonly PropertyKey[],
  lossy: LossyMappings,
): Record<string, unknown> {
  const exact = KONG_WINDOWS.find(([, ms]) => ms === limit.perMs);
  const config: Record<string, unknown> = { policy: 'local', limit_by: 'consumer' };
  if (exact) config[exact[0]] = limit.requests;
  else {
    // The smallest Kong window at least as long, with the limit scaled to it.
    const [window, ms] =
      KONG_WINDOWS.find(([, size]) => size >= limit.perMs) ?? KONG_WINDOWS.at(-1)!;
    const scaled = Math.max(1, Math.floor((limit.requests * ms) / limit.perMs));
    config[window] = scaled;
    lossy.warn(
      path,
      `${limit.requests} per ${limit.perMs / 1000}s: Kong counts per second, minute, hour, day, month or year; exported as ${scaled} per ${window}`,
    );
  }
  if (limit.burst !== undefined && !exact?.[0].startsWith('second')) config.second = limit.burst;
  return { name: 'rate-limiting', config };
}

/** Kong's host for a route: the service, or an upstream of weighted targets for its versions. */
function upstreamFor(
  service: ServiceConfig,
  pinned: string | undefined,
  upstreams: Array<Record<string, unknown>>,
  lossy: LossyMappings,
): string {
  if (!service.versioned) return service.name;
  if (pinned) return `${service.name}-${pinned}`;
  const name = `${service.name}.upstream`;
  if (upstreams.some((upstream) => upstream.name === name)) return name;
  const split = service.routes.find((route) => !route.match && route.split)?.split;
  const to = service.routes.find((route) => !route.match && route.to)?.to;
  const weights =
    split ??
    service.instances.map((instance) => ({
      version: instance.version,
      weight: to === undefined ? 1 : instance.version === to ? 1 : 0,
    }));
  if (service.routes.some((route) => route.match))
    lossy.warn(
      ['services', service.name, 'routes'],
      'routes with conditions: Kong routes at the edge by path, host and headers of its own; only the default weights are exported',
    );
  upstreams.push({
    name,
    targets: weights.map((entry) => ({
      target: `${service.name}-${entry.version}:80`,
      weight: Math.round(entry.weight * 10),
    })),
  });
  return name;
}

/** The status a service answers every call with (a 100% abort without a match), if any. */
function alwaysAbort(service: ServiceConfig): number | undefined {
  return service.faults.find((fault) => !fault.match && fault.abort?.percent === 100)?.abort
    ?.status;
}
