/**
 * The normalized, frozen config the rest of the program sees: durations in ms, sizes in
 * bytes, defaults filled, every service expanded into its instances, and outbound
 * listener ports allocated. Nothing outside `src/config/` ever sees raw YAML. Policy
 * shapes (matches, retries, breakers, health, gateway routes) are the schema's own
 * outputs, re-exported here: one definition, in `schema.ts`.
 */
import type {
  CircuitBreakerPolicy,
  GatewayRoute,
  HealthCheck,
  Match,
  MtlsMode,
  RetryPolicy,
} from './schema.js';

export type {
  CircuitBreakerPolicy,
  GatewayRoute,
  HeaderMatch,
  HealthCheck,
  Match,
  MtlsMode,
  RetryCondition,
  RetryPolicy,
} from './schema.js';

/** The version name of a service declared without `versions:`. */
export const DEFAULT_VERSION = 'default';

/** How an instance is named to users: `payments@v2`, or `orders` when unversioned. */
export function instanceLabel(service: string, version: string | undefined): string {
  return version && version !== DEFAULT_VERSION ? `${service}@${version}` : service;
}

export interface RouteRule {
  /** How call records name it: its `name`, else `#<index>`. */
  name: string;
  match?: Match;
  to?: string;
  split?: ReadonlyArray<{ version: string; weight: number }>;
  /** Policy of this route, in place of the service's when set. */
  timeoutMs?: number;
  retries?: RetryPolicy;
  /** Faults of this route, in place of the service's file faults (runtime ones still apply). */
  faults?: readonly FaultRule[];
  /** A copy of `percent` % of the calls goes to version `to`; its answer is discarded. */
  mirror?: { to: string; percent: number };
  /** Headers changed on the calls (before they go on) and on their answers. */
  headers?: { request?: HeaderOperations; response?: HeaderOperations };
}

/** Istio's header operations, names lower-case: applied as remove, then set, then add. */
export interface HeaderOperations {
  set?: Readonly<Record<string, string>>;
  add?: Readonly<Record<string, string>>;
  remove?: readonly string[];
}

/** A latency: fixed, or log-normal fitted to its median and 99th percentile (ms). */
export type Latency = { fixedMs: number } | { p50Ms: number; p99Ms: number };

export interface FaultRule {
  /** Stable id: `file:<service>:<index>` for file faults. */
  id: string;
  service: string;
  /** Only this version, when set (runtime faults may target one). */
  version?: string;
  match?: Match;
  delay?: Latency & { percent: number };
  abort?: { status: number; percent: number };
  reset?: { percent: number };
  bandwidth?: { bytesPerSecond: number; percent: number };
}

/** `allow: ["*"]`: any caller, authenticated or not (a public service). */
export const ANYONE = '*';

export interface AllowRule {
  from: string;
  methods?: readonly string[];
  paths?: readonly string[];
}

export interface SimCall {
  service: string;
  /** What templates call its result (`{{calls.<name>.status}}`); the service by default. */
  name: string;
  method: string;
  path: string;
  headers?: Readonly<Record<string, string>>;
  body?: unknown;
  /** The simulated app's own client timeout (ms), apart from the mesh's. */
  timeoutMs?: number;
  /** The app's own retries of a failed call (5xx, reset, its timeout). */
  retries: number;
  onError: 'fail' | 'ignore' | number | { status: number; body?: unknown };
  /** On failure, carry on with this as the call's body. */
  fallback?: unknown;
}

export interface SimErrors {
  status: number;
  percent: number;
}

export interface SimRoute {
  method: string;
  path: string;
  status: number;
  headers?: Readonly<Record<string, string>>;
  body?: unknown;
  latency?: Latency;
  errors?: SimErrors;
  calls: readonly SimCall[];
  /** Make the calls at once rather than one after another. */
  parallel: boolean;
}

export interface SimSpec {
  /** Answer the operations of the instance's OpenAPI spec (after `routes`, which win). */
  fromSpec: boolean;
  /** Those answers made up anew from the schema on every call (Prism's dynamic mode). */
  dynamic: boolean;
  /**
   * Header names (lower case; `x-b3-*` a prefix) forwarded from the request served to the
   * calls made: Istio's trace headers, then `sim.propagate` or else `mesh.propagate`.
   */
  propagate: readonly string[];
  routes: readonly SimRoute[];
  latency?: Latency;
  errors?: SimErrors;
}

/** One running copy of a service: service × version. */
export interface InstanceConfig {
  service: string;
  version: string;
  port?: number;
  command?: string;
  /** Absolute working directory for `command`. */
  cwd: string;
  env: Readonly<Record<string, string>>;
  health?: HealthCheck;
  sim?: SimSpec;
  /** Absolute path of this instance's OpenAPI document (its version's, else the service's). */
  spec?: string;
}

export interface ServiceConfig {
  name: string;
  /** True when the service declared `versions:`. */
  versioned: boolean;
  instances: readonly InstanceConfig[];
  upstreams: readonly string[];
  routes: readonly RouteRule[];
  faults: readonly FaultRule[];
  timeoutMs?: number;
  retries?: RetryPolicy;
  circuitBreaker?: CircuitBreakerPolicy;
  /** Who may call this service; defaults filled (its declared callers, plus gateway). */
  allow: readonly AllowRule[];
  /** Where to change who may call it: the `allow:` line, or the service's own line. */
  allowSource: { file: string; line: number; explicit: boolean };
  /** Absolute path of the OpenAPI document, when given. */
  spec?: string;
  /** East–west API product: what callers must present (checked on the inbound side). */
  auth?: {
    require: AuthRequire;
    scopes?: readonly string[];
    consumers?: readonly string[];
    groups?: readonly string[];
  };
}

/** What the gateway (or a route) requires of a caller. */
export type AuthRequire = 'none' | 'apiKey' | 'jwt' | 'any';

/** JWT verification settings, with `jwks` resolved (absolute file path or loopback URL). */
export interface JwtSettings {
  local: boolean;
  issuer?: string;
  audience?: string;
  jwks?: string;
  algorithms: readonly string[];
  clockSkewMs: number;
  consumerClaim: string;
}

/** `gateway.auth`. */
export interface GatewayAuth {
  require: AuthRequire;
  apiKeys: { header: string; query?: string };
  jwt?: JwtSettings;
  forwardCredentials: boolean;
}

/** `gateway.cors`. */
export interface CorsConfig {
  origins: readonly string[];
  methods: readonly string[];
  headers: readonly string[];
  exposedHeaders: readonly string[];
  credentials: boolean;
  maxAgeMs: number;
}

/** Who calls the APIs: a consumer with its plan and credentials. */
export interface ConsumerConfig {
  name: string;
  plan?: string;
  keys: readonly string[];
  /** The value of the consumer claim that names this consumer in a JWT. */
  jwtSubject: string;
  groups: readonly string[];
}

/** A number of requests per window. */
export interface WindowLimit {
  requests: number;
  perMs: number;
  /** Rate limits only: also at most this many in any one second. */
  burst?: number;
}

/** A plan: a rate limit and/or a quota. `anonymous` applies to callers without credentials. */
export interface PlanConfig {
  name: string;
  rateLimit?: WindowLimit;
  quota?: WindowLimit;
}

/** The plan of callers without credentials, keyed by client address. */
export const ANONYMOUS_PLAN = 'anonymous';

export interface GatewayConfig {
  port: number;
  auth: GatewayAuth;
  cors?: CorsConfig;
  /** `true` when gateway.port serves HTTPS; a number for an extra HTTPS port. */
  tls: boolean | number;
  routes: readonly GatewayRoute[];
  /** Forward the client's `Host` (true), or let each hop send the upstream's address. */
  preserveHost: boolean;
}

/** The listener an app calls for one of its upstreams. */
export interface OutboundSpec {
  caller: string;
  service: string;
  port: number;
  /** The env var the caller reads, e.g. `PAYMENTS_URL`. */
  envVar: string;
}

export interface LoadSpec {
  name: string;
  method: string;
  path: string;
  headers?: Readonly<Record<string, string>>;
  body?: unknown;
  rps?: number;
  concurrency?: number;
  durationMs?: number;
  rampMs?: number;
  /** Stop after this many requests (`meshdev check` loads). */
  maxRequests?: number;
  /** Send as this consumer. */
  as?: string;
}

export interface MeshSettings {
  name: string;
  trustDomain: string;
  namespace: string;
  mtls: MtlsMode;
  certTtlMs: number;
  adminPort: number;
  portsFrom: number;
  seed?: number;
  /** Contract checking: `report` by default when any spec exists, else `off`. */
  contracts: ContractMode;
}

/** `off`, `report` (record violations) or `enforce` (refuse them). */
export type ContractMode = 'off' | 'report' | 'enforce';

/** A fault a check applies for its duration. */
export type CheckFault = FaultRule;

/** A bound on a measured number, over the edge or one service's calls. */
export interface Bound {
  service?: string;
  min?: number;
  max?: number;
}

/** One `checks:` scenario (see `meshdev check`). */
export interface CheckSpec {
  name: string;
  faults: readonly CheckFault[];
  splits?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  requests: ReadonlyArray<{
    method: string;
    path: string;
    headers?: Readonly<Record<string, string>>;
    body?: unknown;
    repeat: number;
    as?: string;
  }>;
  /** Requests made up from the specs of `services` (all reachable ones when absent). */
  explore?: {
    services?: readonly string[];
    perOperation: number;
    headers?: Readonly<Record<string, string>>;
    as?: string;
  };
  /** A load like `load:` entries, bounded by a duration and optionally a count. */
  load?: Omit<LoadSpec, 'name' | 'rampMs' | 'maxRequests'> & {
    as?: string;
    requests?: number;
    durationMs: number;
  };
  run?: string;
  timeoutMs: number;
  expect: {
    errorRate?: Bound;
    p50?: Bound;
    p99?: Bound;
    status?: Readonly<Record<string, { min?: number; max?: number }>>;
    violations: number;
    coverage?: number;
    calls?: ReadonlyArray<{ from: string; to: string; min: number }>;
    exitCode: number;
  };
  /** Line of the check in the config, for reports. */
  line: number;
}

/** A validated, normalized, deeply frozen mesh config. */
export interface MeshConfig {
  /** Absolute path of the config file. */
  file: string;
  /** sha256 of the file's text, for reload de-duplication. */
  hash: string;
  mesh: MeshSettings;
  gateway?: GatewayConfig;
  services: readonly ServiceConfig[];
  outbound: readonly OutboundSpec[];
  consumers: readonly ConsumerConfig[];
  plans: Readonly<Record<string, PlanConfig>>;
  load: readonly LoadSpec[];
  checks: readonly CheckSpec[];
}
