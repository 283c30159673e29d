/**
 * `meshdev export --to consul`: consul-k8s config-entry resources per service —
 * ServiceDefaults (protocol http), ServiceResolver (a subset per version, filtered on
 * `Service.Meta.version`), ServiceRouter (matched routes: path, headers, methods, one
 * subset; request timeout and retries), ServiceSplitter (the default route's weights) and
 * ServiceIntentions (from `allow`, L7 permissions for methods and paths). Consul has no
 * fault injection: faults are warnings at their config line.
 */
import type { Match, MeshConfig, RouteRule, ServiceConfig } from '../config/model.js';
import type { ExportOptions, ExportResult } from './istio.js';
import { LossyMappings, warnMirrors } from './lossy.js';
import { escapeRegex } from '../lib/regex.js';
import type { Manifest } from './manifest.js';
import { templateRegex } from './paths.js';

const API = 'consul.hashicorp.com/v1alpha1';

/** Exports `config` as consul-k8s config entries. */
export function exportConsul(config: MeshConfig, options: ExportOptions = {}): ExportResult {
  const namespace = options.namespace ?? config.mesh.namespace;
  const lossy = new LossyMappings(config.file);
  const manifests: Manifest[] = [];
  const meta = (name: string) => ({ name, namespace });
  for (const service of config.services) {
    const base = ['services', service.name];
    service.faults.forEach((_fault, index) =>
      lossy.warn([...base, 'faults', index], 'fault injection: Consul has none; skipped'),
    );
    warnMirrors(service, lossy, 'Consul');
    manifests.push({
      apiVersion: API,
      kind: 'ServiceDefaults',
      metadata: meta(service.name),
      spec: { protocol: 'http' },
    });
    if (service.versioned) {
      manifests.push({
        apiVersion: API,
        kind: 'ServiceResolver',
        metadata: meta(service.name),
        spec: {
          defaultSubset: defaultVersion(service),
          subsets: Object.fromEntries(
            service.instances.map((instance) => [
              instance.version,
              { filter: `Service.Meta.version == ${instance.version}` },
            ]),
          ),
        },
      });
    }
    const matched = service.routes
      .map((route, index) => ({ route, index }))
      .filter(({ route }) => route.match);
    service.routes.forEach((route, index) => {
      if (!route.match && route.headers)
        lossy.warn(
          ['services', service.name, 'routes', index, 'headers'],
          "headers on a route without a match: Consul's router changes headers on matched routes only; skipped",
        );
    });
    const policy = destinationPolicy(service, undefined);
    if (matched.length > 0 || Object.keys(policy).length > 0) {
      manifests.push({
        apiVersion: API,
        kind: 'ServiceRouter',
        metadata: meta(service.name),
        spec: {
          routes: [
            ...matched.map(({ route, index }) => {
              const path = [...base, 'routes', index];
              if (route.split)
                lossy.warn(
                  [...path, 'split'],
                  'a split on a matched route: a Consul router sends a match to one subset; exported to its heaviest version',
                );
              route.faults?.forEach((_fault, f) =>
                lossy.warn([...path, 'faults', f], 'fault injection: Consul has none; skipped'),
              );
              return {
                match: { http: consulMatch(route.match!, [...path, 'match'], lossy) },
                destination: {
                  ...subsetOf(route),
                  ...destinationPolicy(service, route),
                },
              };
            }),
            // The service's own timeout and retries for everything else.
            ...(Object.keys(policy).length > 0 ? [{ destination: policy }] : []),
          ],
        },
      });
    }
    const split = service.routes.find((route) => !route.match && route.split)?.split;
    if (split) {
      manifests.push({
        apiVersion: API,
        kind: 'ServiceSplitter',
        metadata: meta(service.name),
        spec: {
          splits: split.map((entry) => ({ weight: entry.weight, serviceSubset: entry.version })),
        },
      });
    }
    manifests.push(intentions(service, namespace));
  }
  return { manifests, warnings: lossy.warnings };
}

/** The version calls go to without a match: the default route's `to`, else the first. */
function defaultVersion(service: ServiceConfig): string {
  return (
    service.routes.find((route) => !route.match && route.to)?.to ?? service.instances[0]!.version
  );
}

function subsetOf(route: RouteRule): Record<string, string> {
  const version =
    route.to ?? (route.split && [...route.split].sort((a, b) => b.weight - a.weight)[0]?.version);
  return version ? { serviceSubset: version } : {};
}

/** Request timeout and retries of a route (its own, else the service's). */
function destinationPolicy(
  service: ServiceConfig,
  route: RouteRule | undefined,
): Record<string, unknown> {
  const timeoutMs = route?.timeoutMs ?? service.timeoutMs;
  const retries = route?.retries ?? service.retries;
  const statuses = retries?.retryOn.filter((on): on is number => typeof on === 'number') ?? [];
  const headers = route?.headers;
  return {
    ...(headers?.request && { requestHeaders: headers.request }),
    ...(headers?.response && { responseHeaders: headers.response }),
    ...(timeoutMs !== undefined && { requestTimeout: `${timeoutMs}ms` }),
    ...(retries && {
      numRetries: retries.attempts,
      retryOnConnectFailure: retries.retryOn.includes('connect-failure'),
      ...(statuses.length > 0 && { retryOnStatusCodes: statuses }),
      retryOn: retries.retryOn
        .filter((on) => on === '5xx' || on === 'gateway-error' || on === 'reset')
        .map(String),
    }),
  };
}

/** A Consul HTTP match: one path kind, headers, methods. */
function consulMatch(
  match: Match,
  path: readonly PropertyKey[],
  lossy: LossyMappings,
): Record<string, unknown> {
  const at = match.path;
  const pathMatch =
    at === undefined
      ? {}
      : at.endsWith('/*')
        ? { pathPrefix: at.slice(0, -1) }
        : at.includes(':')
          ? { pathRegex: templateRegex(at) }
          : { pathExact: at };
  const header = Object.entries(match.headers ?? {}).map(([name, rule]) =>
    rule.regex !== undefined
      ? { name, regex: rule.regex }
      : rule.present !== undefined
        ? { name, present: true, ...(rule.present === false && { invert: true }) }
        : { name, exact: rule.exact ?? '' },
  );
  if (match.headers && Object.values(match.headers).some((rule) => rule.regex !== undefined))
    lossy.warn(
      [...path, 'headers'],
      'header regexes: meshdev uses JavaScript regexes, Consul RE2 — check the pattern means the same',
    );
  return {
    ...pathMatch,
    ...(header.length > 0 && { header }),
    ...(match.methods && { methods: [...match.methods] }),
  };
}

/** ServiceIntentions from `allow`: one source per caller, L7 permissions for methods/paths. */
function intentions(service: ServiceConfig, namespace: string): Manifest {
  const sources = service.allow.map((rule) => {
    const name = rule.from === '*' ? '*' : rule.from === 'gateway' ? 'ingress-gateway' : rule.from;
    if (!rule.methods && !rule.paths) return { name, action: 'allow' };
    const paths: Array<Record<string, string> | undefined> = rule.paths?.map(
      (p): Record<string, string> =>
        p.endsWith('*')
          ? { pathPrefix: p.slice(0, -1) }
          : p.startsWith('*')
            ? { pathRegex: `.*${escapeRegex(p.slice(1))}$` }
            : { pathExact: p },
    ) ?? [undefined];
    return {
      name,
      permissions: paths.map((pathMatch) => ({
        action: 'allow',
        http: { ...pathMatch, ...(rule.methods && { methods: [...rule.methods] }) },
      })),
    };
  });
  return {
    apiVersion: API,
    kind: 'ServiceIntentions',
    metadata: { name: service.name, namespace },
    spec: {
      destination: { name: service.name },
      // Nobody allowed: one deny-all source, as meshdev refuses every caller.
      sources: sources.length > 0 ? sources : [{ name: '*', action: 'deny' }],
    },
  };
}
