/**
 * Builds the runtime `MeshConfig` from a schema-valid, rule-checked `RawConfig`:
 * expands instances, fills defaults that depend on other keys (allow lists), allocates
 * outbound ports in config order, and freezes the result.
 */
import path from 'node:path';
import { envVarName } from './names.js';
import {
  DEFAULT_VERSION,
  type AllowRule,
  type Bound,
  type CheckSpec,
  type FaultRule,
  type InstanceConfig,
  type Latency,
  type MeshConfig,
  type ServiceConfig,
  type SimSpec,
} from './model.js';
import type { RawCheck, RawConfig, RawFault, RawInstance, RawService, RawSim } from './schema.js';

/** Normalizes and deep-freezes a config; `file` is absolute, `hash` its content hash. */
export function normalize(
  raw: RawConfig,
  file: string,
  hash: string,
  lineOf: (path: PropertyKey[]) => number = () => 0,
): MeshConfig {
  const dir = path.dirname(file);
  const callersOf = new Map<string, string[]>();
  for (const [name, service] of Object.entries(raw.services)) {
    for (const upstream of service.upstreams) {
      callersOf.set(upstream, [...(callersOf.get(upstream) ?? []), name]);
    }
  }
  const gatewayTargets = new Set(raw.gateway?.routes.map((route) => route.service) ?? []);

  const services: ServiceConfig[] = Object.entries(raw.services).map(([name, service]) => ({
    name,
    versioned: service.versions !== undefined,
    instances: instancesOf(name, service, dir, raw.mesh.propagate),
    upstreams: service.upstreams,
    routes: service.routes.map((route, r) => ({
      name: route.name ?? `#${r}`,
      match: route.match,
      to: route.to,
      split:
        route.split &&
        Object.entries(route.split).map(([version, weight]) => ({ version, weight })),
      timeoutMs: route.timeout,
      retries: route.retries,
      faults: route.faults?.map((fault, i) => toFault(fault, `file:${name}:route${r}:${i}`, name)),
      mirror: route.mirror && { to: route.mirror.to, percent: route.mirror.percent ?? 100 },
      headers: route.headers,
    })),
    faults: service.faults.map((fault, i) => toFault(fault, `file:${name}:${i}`, name)),
    timeoutMs: service.timeout,
    retries: service.retries,
    circuitBreaker: service.circuitBreaker,
    allow: service.allow
      ? service.allow.map((rule): AllowRule => (typeof rule === 'string' ? { from: rule } : rule))
      : [
          ...(callersOf.get(name) ?? []).map((from) => ({ from })),
          ...(gatewayTargets.has(name) ? [{ from: 'gateway' }] : []),
        ],
    allowSource: {
      file,
      line: lineOf(service.allow ? ['services', name, 'allow'] : ['services', name]),
      explicit: service.allow !== undefined,
    },
    spec: resolvedSpec(service.spec, dir),
    auth: service.auth && {
      require: service.auth.require ?? 'any',
      scopes: service.auth.scopes,
      consumers: service.auth.consumers,
      groups: service.auth.groups,
    },
  }));

  let nextPort = raw.mesh.ports.from;
  const outbound = services.flatMap((service) =>
    service.upstreams.map((upstream) => ({
      caller: service.name,
      service: upstream,
      port: nextPort === 0 ? 0 : nextPort++,
      envVar: envVarName(upstream),
    })),
  );

  const config: MeshConfig = {
    file,
    hash,
    mesh: {
      name: raw.mesh.name,
      trustDomain: raw.mesh.trustDomain,
      namespace: raw.mesh.namespace,
      mtls: raw.mesh.mtls,
      certTtlMs: raw.mesh.certTTL,
      adminPort: raw.mesh.admin.port,
      portsFrom: raw.mesh.ports.from,
      seed: raw.mesh.seed,
      contracts:
        raw.mesh.contracts ??
        (services.some((service) => service.instances.some((instance) => instance.spec))
          ? 'report'
          : 'off'),
    },
    gateway: raw.gateway && {
      port: raw.gateway.port,
      auth: {
        require: raw.gateway.auth.require,
        apiKeys: raw.gateway.auth.apiKeys,
        forwardCredentials: raw.gateway.auth.forwardCredentials,
        jwt: raw.gateway.auth.jwt && {
          local: raw.gateway.auth.jwt.local,
          issuer: raw.gateway.auth.jwt.issuer,
          audience: raw.gateway.auth.jwt.audience,
          jwks:
            raw.gateway.auth.jwt.jwks === undefined ||
            /^https?:\/\//.test(raw.gateway.auth.jwt.jwks)
              ? raw.gateway.auth.jwt.jwks
              : path.resolve(dir, raw.gateway.auth.jwt.jwks),
          algorithms: raw.gateway.auth.jwt.algorithms,
          clockSkewMs: raw.gateway.auth.jwt.clockSkew,
          consumerClaim: raw.gateway.auth.jwt.consumerClaim,
        },
      },
      cors: raw.gateway.cors && {
        origins: raw.gateway.cors.origins,
        methods: raw.gateway.cors.methods,
        headers: raw.gateway.cors.headers.map((h) => h.toLowerCase()),
        exposedHeaders: raw.gateway.cors.exposedHeaders,
        credentials: raw.gateway.cors.credentials,
        maxAgeMs: raw.gateway.cors.maxAge,
      },
      tls: typeof raw.gateway.tls === 'object' ? raw.gateway.tls.port : raw.gateway.tls,
      routes: raw.gateway.routes,
      preserveHost: raw.gateway.preserveHost,
    },
    services,
    outbound,
    consumers: Object.entries(raw.consumers).map(([name, consumer]) => ({
      name,
      plan: consumer.plan,
      keys: consumer.keys,
      jwtSubject: consumer.jwt?.subject ?? name,
      groups: consumer.groups,
    })),
    plans: Object.fromEntries(
      Object.entries(raw.plans).map(([name, plan]) => [
        name,
        {
          name,
          rateLimit: plan.rateLimit && {
            requests: plan.rateLimit.requests,
            perMs: plan.rateLimit.per,
          },
          quota: plan.quota && { requests: plan.quota.requests, perMs: plan.quota.per },
        },
      ]),
    ),
    load: raw.load.map((load, i) => ({
      name: load.name ?? `load-${i + 1}`,
      method: load.method,
      path: load.path,
      headers: load.headers,
      body: load.body,
      rps: load.rps,
      concurrency: load.concurrency,
      durationMs: load.duration,
      rampMs: load.ramp,
      as: load.as,
    })),
    checks: raw.checks.map((check, i) => toCheck(check, lineOf(['checks', i]))),
  };
  return deepFreeze(config);
}

function instancesOf(
  name: string,
  service: RawService,
  dir: string,
  propagate: readonly string[],
): InstanceConfig[] {
  const entries: Array<[string, RawInstance]> = service.versions
    ? Object.entries(service.versions)
    : [[DEFAULT_VERSION, service]];
  return entries.map(([version, instance]) => ({
    service: name,
    version,
    port: instance.port,
    command: instance.command,
    cwd: path.resolve(dir, instance.cwd ?? service.cwd ?? '.'),
    env: { ...service.env, ...instance.env },
    health: instance.health ?? service.health,
    sim: instance.sim && toSim(instance.sim, propagate),
    spec: resolvedSpec(instance.spec ?? service.spec, dir),
  }));
}

function resolvedSpec(spec: string | undefined, dir: string): string | undefined {
  return spec === undefined ? undefined : path.resolve(dir, spec);
}

function toCheck(check: RawCheck, line: number): CheckSpec {
  const toBound = (value: number | Bound | undefined): Bound | undefined =>
    value === undefined ? undefined : typeof value === 'number' ? { max: value } : value;
  const { expect } = check;
  return {
    name: check.name,
    faults: check.faults.map((fault, i) => ({
      ...toFault(fault, `check:${check.name}:${i}`, fault.service),
      version: fault.version,
    })),
    splits: check.splits,
    requests: check.requests,
    explore: check.explore,
    load: check.load && {
      method: check.load.method,
      path: check.load.path,
      headers: check.load.headers,
      body: check.load.body,
      rps: check.load.rps,
      concurrency: check.load.concurrency,
      requests: check.load.requests,
      durationMs: check.load.duration,
      as: check.load.as,
    },
    run: check.run,
    timeoutMs: check.timeout,
    expect: {
      errorRate: toBound(expect.errorRate),
      p50: toBound(expect.p50),
      p99: toBound(expect.p99),
      status: expect.status
        ? Object.fromEntries(
            Object.entries(expect.status).map(([key, value]) => [
              key.toLowerCase(),
              typeof value === 'number' ? { min: value, max: value } : value,
            ]),
          )
        : undefined,
      violations: expect.violations,
      coverage: expect.coverage,
      calls: expect.calls,
      exitCode: expect.exitCode,
    },
    line,
  };
}

function toLatency(value: number | { p50: number; p99: number }): Latency {
  return typeof value === 'number' ? { fixedMs: value } : { p50Ms: value.p50, p99Ms: value.p99 };
}

/** Normalizes one fault (durations in ms, percents defaulted). */
export function toFault(fault: RawFault, id: string, service: string): FaultRule {
  const fallback = fault.percent ?? 100;
  const { delay, abort, reset, bandwidth } = fault;
  return {
    id,
    service,
    match: fault.match,
    delay:
      delay === undefined
        ? undefined
        : typeof delay === 'number'
          ? { fixedMs: delay, percent: fallback }
          : {
              ...(delay.duration !== undefined
                ? { fixedMs: delay.duration }
                : { p50Ms: delay.p50!, p99Ms: delay.p99! }),
              percent: delay.percent ?? fallback,
            },
    abort:
      abort === undefined
        ? undefined
        : typeof abort === 'number'
          ? { status: abort, percent: fallback }
          : { status: abort.status, percent: abort.percent ?? fallback },
    reset:
      reset === undefined
        ? undefined
        : { percent: (reset === true ? undefined : reset.percent) ?? fallback },
    bandwidth:
      bandwidth === undefined
        ? undefined
        : typeof bandwidth === 'number'
          ? { bytesPerSecond: bandwidth, percent: fallback }
          : { bytesPerSecond: bandwidth.rate, percent: bandwidth.percent ?? fallback },
  };
}

/**
 * What Istio asks applications to forward so traces join up (its "header propagation"
 * list): simulated services always forward these.
 */
export const TRACE_HEADERS = [
  'x-request-id',
  'traceparent',
  'tracestate',
  'b3',
  'x-b3-*',
  'x-ot-span-context',
  'grpc-trace-bin',
] as const;

function toSim(sim: RawSim, meshPropagate: readonly string[]): SimSpec {
  return {
    fromSpec: sim.spec,
    dynamic: sim.dynamic,
    propagate: [
      ...new Set([
        ...TRACE_HEADERS,
        ...(sim.propagate ?? meshPropagate).map((n) => n.toLowerCase()),
      ]),
    ],
    latency: sim.latency === undefined ? undefined : toLatency(sim.latency),
    errors: sim.errors,
    routes: sim.routes.map((route) => ({
      method: route.method,
      path: route.path,
      status: route.status,
      headers: route.headers,
      body: route.body,
      latency: route.latency === undefined ? undefined : toLatency(route.latency),
      errors: route.errors,
      calls: (route.calls ?? []).map(({ timeout, name, ...call }) => ({
        ...call,
        name: name ?? call.service,
        timeoutMs: timeout,
      })),
      parallel: route.parallel,
    })),
  };
}

/** Freezes an object graph so no consumer can change the applied config by accident. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
