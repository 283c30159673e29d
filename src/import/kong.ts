/**
 * `meshdev import kong kong.yaml`: a decK declarative file read into a config — Kong
 * services become meshdev services (an upstream's weighted targets its versions and
 * split, a loopback host:port a dev server's port), routes the gateway's routes, plugins
 * what meshdev's edge does (`key-auth`, `jwt` → `gateway.auth`, `acl` → groups,
 * `rate-limiting` → route limits and, per consumer, plans, `cors`, `request-termination`
 * → an abort fault), consumers with their keys as `${VAR:-default}` references. What has
 * no meshdev equivalent is a warning at its file:line.
 */
import { formatDuration } from '../config/units.js';
import { envName, KONG_WINDOWS } from '../export/kong.js';
import { isLoopbackHost } from '../lib/loopback.js';
import {
  addVersion,
  percents,
  dnsLabel,
  serviceOf,
  type DraftConfig,
  type DraftGatewayRoute,
} from './draft.js';
import type { ImportOptions, ImportResult } from './istio.js';
import { ImportNotes } from './notes.js';
import { isObject, type SourceObject } from './source.js';

type Json = Record<string, unknown>;

/** Kong's windows, shortest first, as meshdev writes them (`1m`, `1d`, `30d`). */
const WINDOWS: ReadonlyArray<[string, string]> = KONG_WINDOWS.map(([name, ms]) => [
  name,
  ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : formatDuration(ms),
]);
/** Windows a plan counts as a quota (long), not a rate limit. */
const QUOTA_WINDOWS = ['day', 'month', 'year'];
/** Plugins meshdev reads; others are warnings. */
const READ_PLUGINS = ['key-auth', 'jwt', 'acl', 'rate-limiting', 'cors', 'request-termination'];
/** The port Kong's proxy listens on: the gateway's. */
const KONG_PROXY_PORT = 8000;
/** decK's reference to an environment variable: `${{ env "DECK_ALICE_KEY" }}`. */
const DECK_ENV = /^\$\{\{\s*env\s+"DECK_([A-Za-z0-9_]+)"\s*\}\}$/;

/** A plugin where it was found, and what it is attached to. */
interface PluginAt {
  plugin: Json;
  source: SourceObject;
  path: PropertyKey[];
  service?: string;
  route?: string;
  consumer?: string;
}

/** A Kong route, with the Kong service it belongs to. */
interface RouteAt {
  route: Json;
  service: string;
  path: PropertyKey[];
  source: SourceObject;
}

/** Reads decK files into a config. */
export function importKong(objects: readonly SourceObject[], options: ImportOptions): ImportResult {
  const reading = new KongImport(options.name);
  for (const source of objects) reading.read(source);
  reading.finish();
  return { draft: reading.draft, warnings: reading.notes.warnings };
}

class KongImport {
  readonly notes = new ImportNotes();
  readonly draft: DraftConfig;
  private readonly services: Array<{ service: Json; path: PropertyKey[]; source: SourceObject }> =
    [];
  private readonly routes: RouteAt[] = [];
  private readonly upstreams = new Map<
    string,
    { upstream: Json; source: SourceObject; path: PropertyKey[] }
  >();
  private readonly plugins: PluginAt[] = [];
  private readonly consumers: Array<{ consumer: Json; source: SourceObject; path: PropertyKey[] }> =
    [];
  /** Kong service name → meshdev service (and the version it pins, if any). */
  private readonly targets = new Map<string, { service: string; version?: string }>();

  constructor(name: string) {
    this.draft = { version: 1, mesh: { name }, services: {} };
  }

  /** Collects what one file holds. */
  read(source: SourceObject): void {
    const file = source.value;
    this.notes.unknownFields(source, [], file, [
      '_format_version',
      '_transform',
      '_info',
      'services',
      'routes',
      'upstreams',
      'consumers',
      'plugins',
    ]);
    list(file.services).forEach((service, index) => {
      const path = ['services', index];
      this.services.push({ service, path, source });
      const name = String(service.name ?? `service-${index}`);
      list(service.routes).forEach((route, r) =>
        this.routes.push({ route, service: name, path: [...path, 'routes', r], source }),
      );
      list(service.plugins).forEach((plugin, p) =>
        this.plugins.push({ plugin, source, path: [...path, 'plugins', p], service: name }),
      );
      for (const { route, path: at } of this.routes.filter(
        (r) => r.service === name && r.source === source,
      ))
        list(route.plugins).forEach((plugin, p) =>
          this.plugins.push({
            plugin,
            source,
            path: [...at, 'plugins', p],
            service: name,
            route: String(route.name ?? at.join('.')),
          }),
        );
    });
    list(file.routes).forEach((route, index) => {
      const service = isObject(route.service) ? route.service.name : route.service;
      const path = ['routes', index];
      if (typeof service !== 'string') {
        this.notes.warn(
          source,
          path,
          'a route without a service: meshdev routes to services; skipped',
        );
        return;
      }
      this.routes.push({ route, service, path, source });
      list(route.plugins).forEach((plugin, p) =>
        this.plugins.push({
          plugin,
          source,
          path: [...path, 'plugins', p],
          service,
          route: String(route.name ?? path.join('.')),
        }),
      );
    });
    list(file.upstreams).forEach((upstream, index) =>
      this.upstreams.set(String(upstream.name), { upstream, source, path: ['upstreams', index] }),
    );
    list(file.consumers).forEach((consumer, index) => {
      this.consumers.push({ consumer, source, path: ['consumers', index] });
      list(consumer.plugins).forEach((plugin, p) =>
        this.plugins.push({
          plugin,
          source,
          path: ['consumers', index, 'plugins', p],
          consumer: String(consumer.username ?? consumer.custom_id),
        }),
      );
    });
    list(file.plugins).forEach((plugin, index) =>
      this.plugins.push({
        plugin,
        source,
        path: ['plugins', index],
        ...(plugin.service !== undefined && { service: refName(plugin.service) }),
        ...(plugin.route !== undefined && { route: refName(plugin.route) }),
        ...(plugin.consumer !== undefined && { consumer: refName(plugin.consumer) }),
      }),
    );
  }

  finish(): void {
    for (const entry of this.services) this.service(entry.service, entry.source, entry.path);
    for (const { plugin, source, path } of this.plugins) {
      if (plugin.enabled === false)
        this.notes.warn(source, [...path, 'enabled'], 'a disabled plugin; skipped');
      else if (!READ_PLUGINS.includes(String(plugin.name)))
        this.notes.warn(
          source,
          [...path, 'name'],
          `plugin ${String(plugin.name)}: meshdev has no equivalent; skipped`,
        );
    }
    const gateway = this.gateway();
    if (gateway.routes.length > 0) this.draft.gateway = gateway;
    this.consumersAndPlans();
  }

  /** One Kong service: the meshdev service (and version) its host names. */
  private service(service: Json, source: SourceObject, path: PropertyKey[]): void {
    const name = String(service.name ?? '');
    if (service.enabled === false) {
      this.notes.warn(source, [...path, 'enabled'], 'a disabled service; skipped');
      return;
    }
    this.notes.unknownFields(source, path, service, [
      'name',
      'url',
      'protocol',
      'host',
      'port',
      'path',
      'retries',
      'connect_timeout',
      'read_timeout',
      'write_timeout',
      'routes',
      'plugins',
      'tags',
      'id',
      'enabled',
    ]);
    let where: ReturnType<typeof address>;
    try {
      where = address(service);
    } catch {
      this.notes.warn(
        source,
        [...path, 'url'],
        `${String(service.url)} is not a URL; the service is skipped`,
      );
      return;
    }
    const { host, port, basePath, protocol } = where;
    if (protocol !== 'http' && protocol !== 'https')
      this.notes.warn(
        source,
        [...path, service.url ? 'url' : 'protocol'],
        `${protocol}: meshdev proxies HTTP/1.1 (and WebSockets); the service is imported as HTTP`,
      );
    if (basePath && basePath !== '/')
      this.notes.warn(
        source,
        [...path, service.url ? 'url' : 'path'],
        `a path prefix (${basePath}) added upstream: meshdev forwards the path as it comes; not applied`,
      );
    const upstream = this.upstreams.get(host);
    let target: { service: string; version?: string };
    if (upstream) target = { service: this.fromUpstream(upstream) };
    else {
      // A service sent to one target of an upstream pins that version.
      const isTarget = (t: Json) => String(t.target) === `${host}:${port}`;
      const pinned = [...this.upstreams.values()].find(({ upstream: u }) =>
        list(u.targets).some(isTarget),
      );
      if (pinned) {
        const meshName = this.fromUpstream(pinned);
        const index = list(pinned.upstream.targets).findIndex(isTarget);
        target = { service: meshName, version: versionName(meshName, host, index) };
      } else {
        const meshName = dnsLabel(isLoopbackHost(host) ? name : host.split('.')[0]!);
        target = { service: meshName };
        const draft = serviceOf(this.draft, meshName);
        if (isLoopbackHost(host)) draft.port = port;
      }
    }
    this.targets.set(name, target);
    const draft = serviceOf(this.draft, target.service);
    if (typeof service.read_timeout === 'number' && service.read_timeout !== 60_000)
      draft.timeout = formatDuration(service.read_timeout);
    if (typeof service.retries === 'number' && service.retries !== 5)
      draft.retries = {
        attempts: Math.min(10, service.retries),
        retryOn: ['connect-failure', 'reset'],
      };
  }

  /** An upstream's targets as the versions of one service, split by their weights. */
  private fromUpstream(entry: {
    upstream: Json;
    source: SourceObject;
    path: PropertyKey[];
  }): string {
    const { upstream, source, path } = entry;
    const upstreamName = String(upstream.name);
    const name = dnsLabel(upstreamName.replace(/\.upstream$/, '').split('.')[0]!);
    if (this.draft.services[name]?.versions) return name;
    this.notes.unknownFields(
      source,
      path,
      upstream,
      ['name', 'targets', 'tags', 'id'],
      "meshdev balances versions by the route's split; skipped",
    );
    const service = serviceOf(this.draft, name);
    const weights: Array<[string, number]> = [];
    list(upstream.targets).forEach((target, index) => {
      const [host = '', port] = String(target.target).split(':');
      const version = versionName(name, host, index);
      addVersion(service, version);
      if (isLoopbackHost(host) && port) service.versions![version]!.port = Number(port);
      weights.push([version, typeof target.weight === 'number' ? target.weight : 100]);
    });
    if (new Set(weights.map(([, weight]) => weight)).size > 1)
      service.routes = [{ split: percents(weights) }];
    return name;
  }

  /** Kong routes as gateway routes, with the auth and limits their plugins give. */
  private gateway(): NonNullable<DraftConfig['gateway']> {
    const global = this.plugins.filter((p) => !p.service && !p.route && !p.consumer);
    const gateway: NonNullable<DraftConfig['gateway']> = { port: KONG_PROXY_PORT, routes: [] };
    const auth: Json = {};
    let preserveHost = true;
    for (const { route, service, path, source } of this.routes) {
      const target = this.targets.get(service);
      if (!target) {
        this.notes.warn(
          source,
          path,
          `route to service "${service}", which is not imported; skipped`,
        );
        continue;
      }
      this.notes.unknownFields(
        source,
        path,
        route,
        [
          'name',
          'paths',
          'strip_path',
          'preserve_host',
          'protocols',
          'plugins',
          'service',
          'tags',
          'id',
        ],
        "meshdev's gateway routes by path prefix; this condition is dropped",
      );
      if (route.preserve_host !== true) preserveHost = false;
      const routeName = String(route.name ?? path.join('.'));
      // Kong's precedence: the route's plugin, else the service's, else the global one.
      const scoped = (name: string) =>
        this.plugins.find(
          (p) =>
            p.route === routeName &&
            !p.consumer &&
            p.plugin.name === name &&
            p.plugin.enabled !== false,
        ) ??
        this.plugins.find(
          (p) =>
            p.service === service &&
            !p.route &&
            !p.consumer &&
            p.plugin.name === name &&
            p.plugin.enabled !== false,
        ) ??
        global.find((p) => p.plugin.name === name && p.plugin.enabled !== false);
      const effective = READ_PLUGINS.map(scoped).filter((p): p is PluginAt => p !== undefined);
      const require = requirement(effective.map((p) => p.plugin));
      for (const found of effective) this.authSettings(found, auth);
      const acl = scoped('acl');
      const allowed = acl && isObject(acl.plugin.config) ? acl.plugin.config.allow : undefined;
      const groups = Array.isArray(allowed) ? allowed.map(String) : [];
      if (acl && isObject(acl.plugin.config) && acl.plugin.config.deny)
        this.notes.warn(
          acl.source,
          [...acl.path, 'config', 'deny'],
          'a deny list: meshdev allows groups; skipped',
        );
      const limit = scoped('rate-limiting');
      const rateLimit = limit ? this.window(limit, false) : undefined;
      if (limit && global.includes(limit))
        this.notes.warn(
          limit.source,
          limit.path,
          "a limit on every route: Kong counts a consumer's calls across routes, meshdev per route",
        );
      const termination = scoped('request-termination');
      if (termination && isObject(termination.plugin.config)) {
        const status = Number(termination.plugin.config.status_code ?? 503);
        const draft = serviceOf(this.draft, target.service);
        if (!(draft.faults ?? []).some((fault) => fault.abort?.status === status))
          draft.faults = [...(draft.faults ?? []), { abort: { status, percent: 100 } }];
      }
      const paths =
        Array.isArray(route.paths) && route.paths.length > 0 ? route.paths.map(String) : ['/'];
      paths.forEach((prefix, p) => {
        if (prefix.startsWith('~')) {
          this.notes.warn(
            source,
            [...path, 'paths', p],
            'a regex path: meshdev routes by prefix; skipped',
          );
          return;
        }
        const strip = route.strip_path !== false && prefix !== '/';
        const entry: DraftGatewayRoute = {
          path: prefix,
          service: target.service,
          ...(target.version && { version: target.version }),
          ...(strip && { stripPrefix: true }),
          auth: { require, ...(groups.length > 0 && { groups }) },
          ...(rateLimit && { rateLimit }),
        };
        gateway.routes.push(entry);
      });
    }
    // What most routes require is the gateway's; the others say their own.
    const counts = new Map<string, number>();
    for (const { auth: own } of gateway.routes)
      counts.set(own!.require!, (counts.get(own!.require!) ?? 0) + 1);
    const usual = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'none';
    for (const route of gateway.routes) {
      if (route.auth!.require === usual) delete route.auth!.require;
      if (Object.keys(route.auth!).length === 0) delete route.auth;
    }
    if (usual !== 'none') auth.require = usual;
    if (Object.keys(auth).length > 0) gateway.auth = auth;
    if (!preserveHost) gateway.preserveHost = false;
    const cors = this.plugins.find((p) => p.plugin.name === 'cors' && p.plugin.enabled !== false);
    if (cors) gateway.cors = this.cors(cors);
    return gateway;
  }

  /** What key-auth and jwt say about the gateway's credentials. */
  private authSettings(found: PluginAt, auth: Json): void {
    const config = isObject(found.plugin.config) ? found.plugin.config : {};
    if (found.plugin.name === 'key-auth') {
      const names = Array.isArray(config.key_names) ? config.key_names.map(String) : ['apikey'];
      auth.apiKeys = {
        header: names[0],
        ...(config.key_in_query !== false && { query: names[1] ?? names[0] }),
      };
      if (config.hide_credentials !== true) auth.forwardCredentials = true;
    }
    if (found.plugin.name === 'jwt' && !auth.jwt) {
      auth.jwt = { local: true };
      this.notes.warn(
        found.source,
        found.path,
        "Kong checks tokens against each consumer's jwt_secrets; meshdev's development issuer stands in (`meshdev token <consumer>`)",
      );
    }
  }

  private cors(found: PluginAt): Json {
    const config = isObject(found.plugin.config) ? found.plugin.config : {};
    if (found.route || found.service)
      this.notes.warn(
        found.source,
        found.path,
        "CORS on one route or service: meshdev's gateway answers CORS for every route",
      );
    return {
      origins: Array.isArray(config.origins) ? config.origins.map(String) : ['*'],
      ...(Array.isArray(config.methods) && { methods: config.methods.map(String) }),
      ...(Array.isArray(config.headers) && { headers: config.headers.map(String) }),
      ...(Array.isArray(config.exposed_headers) && {
        exposedHeaders: config.exposed_headers.map(String),
      }),
      ...(config.credentials === true && { credentials: true }),
      ...(typeof config.max_age === 'number' && { maxAge: formatDuration(config.max_age * 1000) }),
    };
  }

  /** A rate-limiting plugin as one window (a route's limit) or a rate limit plus quota. */
  private window(found: PluginAt, quota: true): { rateLimit?: Json; quota?: Json };
  private window(found: PluginAt, quota: false): { requests: number; per: string } | undefined;
  private window(found: PluginAt, quota: boolean): unknown {
    const config = isObject(found.plugin.config) ? found.plugin.config : {};
    const windows = WINDOWS.filter(([name]) => typeof config[name] === 'number').map(
      ([name, per]) => ({ name, per, requests: config[name] as number }),
    );
    if (!quota) {
      if (windows.length > 1)
        this.notes.warn(
          found.source,
          [...found.path, 'config', windows[1]!.name],
          'a second window on a route: meshdev limits a route in one window; the shortest is kept',
        );
      return windows[0] && { requests: windows[0].requests, per: windows[0].per };
    }
    const short = windows.filter((w) => !QUOTA_WINDOWS.includes(w.name));
    const long = windows.filter((w) => QUOTA_WINDOWS.includes(w.name));
    // A per-second window beside a longer one is meshdev's burst (a spike arrest).
    const burst = short.length > 1 && short[0]!.name === 'second' ? short.shift() : undefined;
    if (short.length > 1 || long.length > 1)
      this.notes.warn(
        found.source,
        [...found.path, 'config'],
        'more windows than a plan has (a rate limit, a burst, a quota): the shortest of each kind is kept',
      );
    return {
      ...(short[0] && {
        rateLimit: {
          requests: short[0].requests,
          per: short[0].per,
          ...(burst && { burst: burst.requests }),
        },
      }),
      ...(long[0] && { quota: { requests: long[0].requests, per: long[0].per } }),
    };
  }

  /** Consumers with their keys as variables, groups, and plans from their rate limits. */
  private consumersAndPlans(): void {
    const consumers: Record<string, Json> = {};
    const plans: Record<string, Json> = {};
    let jwtNoted = false;
    for (const { consumer, source, path } of this.consumers) {
      this.notes.unknownFields(
        source,
        path,
        consumer,
        [
          'username',
          'custom_id',
          'keyauth_credentials',
          'acls',
          'jwt_secrets',
          'plugins',
          'tags',
          'id',
        ],
        'meshdev knows consumers by API key or JWT; skipped',
      );
      const name = String(
        consumer.username ?? consumer.custom_id ?? `consumer-${path[1] as number}`,
      );
      const credentials = list(consumer.keyauth_credentials);
      const keys = credentials.flatMap((credential, index) => {
        const variable = `${envName(name)}_KEY${credentials.length > 1 ? `_${index + 1}` : ''}`;
        const key = String(credential.key ?? '');
        const deck = DECK_ENV.exec(key);
        if (deck)
          return [
            `\${${deck[1]}:-dev-${dnsLabel(name)}-key${credentials.length > 1 ? `-${index + 1}` : ''}}`,
          ];
        if (key.length < 8) {
          this.notes.warn(
            source,
            [...path, 'keyauth_credentials', index, 'key'],
            'a key shorter than 8 characters: meshdev refuses it; skipped',
          );
          return [];
        }
        this.notes.warn(
          source,
          [...path, 'keyauth_credentials', index, 'key'],
          `a key written in the file: read from $${variable} now, with the file's value as its default — move it out of both files`,
        );
        return [`\${${variable}:-${key}}`];
      });
      if (list(consumer.jwt_secrets).length > 0 && !jwtNoted) {
        jwtNoted = true;
        this.notes.warn(
          source,
          [...path, 'jwt_secrets'],
          "Kong finds a token's consumer by its iss claim; meshdev by the subject (`meshdev token <consumer>` signs one)",
        );
      }
      const groups = list(consumer.acls).map((acl) => String(acl.group));
      const limits = this.plugins.filter(
        (p) =>
          p.consumer === name && p.plugin.name === 'rate-limiting' && p.plugin.enabled !== false,
      );
      let plan: string | undefined;
      if (limits.length > 0) {
        const merged = Object.assign(
          {},
          ...limits.map((found) => this.window(found, true)),
        ) as Json;
        plan = planName(merged);
        plans[plan] = merged;
      }
      consumers[name] = {
        ...(plan && { plan }),
        ...(keys.length > 0 && { keys }),
        ...(groups.length > 0 && { groups }),
      };
    }
    if (Object.keys(consumers).length > 0) this.draft.consumers = consumers;
    if (Object.keys(plans).length > 0) this.draft.plans = plans;
  }
}

/** The objects of a list field (anything else is none). */
function list(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

/** A plugin's `service: name`, `service: {name}` or `{id}`. */
function refName(reference: unknown): string {
  return String(isObject(reference) ? (reference.name ?? reference.id) : reference);
}

/** Host, port and path of a Kong service (`url`, or `host`/`port`/`path`). */
function address(service: Json): {
  host: string;
  port: number;
  basePath?: string;
  protocol: string;
} {
  if (typeof service.url === 'string') {
    const url = new URL(service.url);
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    return {
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port,
      basePath: url.pathname,
      protocol: url.protocol.slice(0, -1),
    };
  }
  return {
    protocol: typeof service.protocol === 'string' ? service.protocol : 'http',
    host: String(service.host ?? ''),
    port: typeof service.port === 'number' ? service.port : 80,
    ...(typeof service.path === 'string' && { basePath: service.path }),
  };
}

/** What a set of plugins requires of a caller. */
function requirement(plugins: readonly Json[]): string {
  const has = (name: string) => plugins.some((p) => p.name === name && p.enabled !== false);
  if (has('key-auth') && has('jwt')) return 'any';
  if (has('key-auth')) return 'apiKey';
  if (has('jwt')) return 'jwt';
  return 'none';
}

/** A target's version: `reviews-v2` of reviews is v2; else v1, v2… by position. */
function versionName(service: string, host: string, index: number): string {
  if (host.startsWith(`${service}-`)) return dnsLabel(host.slice(service.length + 1));
  return `v${index + 1}`;
}

/** A plan's name from its limits: `60-per-1m`, `60-per-1m-1000-per-1d`. */
function planName(plan: Json): string {
  return ['rateLimit', 'quota']
    .flatMap((kind) => {
      const limit = plan[kind] as { requests: number; per: string } | undefined;
      return limit ? [`${limit.requests}-per-${limit.per}`] : [];
    })
    .join('-');
}
