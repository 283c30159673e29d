/**
 * The one source of truth for `mesh.config.yaml`: a zod schema from which the TypeScript
 * types (`RawConfig`), the JSON Schema (`meshdev schema`) and validation all derive.
 * Cross-field rules (split sums, references between services, port clashes) live in
 * `rules.ts`, which runs once this structural check passes.
 *
 * Messages may carry a hint after a newline: `issues.ts` splits it into its own field.
 */
import * as z from 'zod';
import { DURATION_PATTERN, SIZE_PATTERN, parseDuration, parseSize } from './units.js';

// A config is parsed once per command (and once per hot reload), never in a loop: zod's
// JIT, which writes and compiles a parser per object schema on its first parse to speed
// up the later ones, cost ~40 ms of every `meshdev validate` and paid back nothing.
z.config({ jitless: true });

const hinted = (message: string, hint: string) => `${message}\n${hint}`;

/** A duration such as `250ms`, `2s`, `1m` or `24h`, normalized to milliseconds. */
const duration = z
  .string({
    error: (issue) =>
      typeof issue.input === 'number'
        ? hinted(
            `expected a duration such as "250ms" or "2s", got the bare number ${issue.input}`,
            `add a unit: ${issue.input}ms or ${issue.input}s`,
          )
        : 'expected a duration such as "250ms", "2s", "1m" or "24h"',
  })
  .regex(new RegExp(DURATION_PATTERN), {
    error: (issue) =>
      hinted(
        `"${String(issue.input)}" is not a duration`,
        'write a number followed by ms, s, m, h or d, e.g. "250ms" or "2s"',
      ),
  })
  .transform((text) => parseDuration(text)!)
  .meta({ description: 'A duration: 250ms, 2s, 1m, 24h' });

/** A byte size such as `512`, `64KiB` or `1MB`, normalized to bytes. */
const size = z
  .union([z.number().int().positive(), z.string().regex(new RegExp(SIZE_PATTERN))], {
    error: () =>
      hinted('expected a size such as "64KiB"', 'write a number followed by B, KB, KiB, MB or MiB'),
  })
  .transform((value) => (typeof value === 'number' ? value : parseSize(value)!))
  .meta({ description: 'A size in bytes: 512, 8KiB, 1MB' });

const percent = z
  .number({ error: 'expected a percent between 0 and 100 (floats allowed)' })
  .min(0, { error: 'a percent cannot be below 0' })
  .max(100, { error: (issue) => `a percent cannot exceed 100, got ${String(issue.input)}` })
  .meta({ description: 'A percent between 0 and 100; floats allowed' });

const port = z
  .number({ error: 'expected a port number between 1 and 65535' })
  .int({ error: 'a port must be a whole number' })
  .min(1, { error: (issue) => `port ${String(issue.input)} is out of range (1–65535)` })
  .max(65535, { error: (issue) => `port ${String(issue.input)} is out of range (1–65535)` });

/** A port meshdev listens on; 0 lets the OS pick a free one (handy in tests and CI). */
const listenPort = z
  .number({ error: 'expected a port number between 0 and 65535 (0: any free port)' })
  .int({ error: 'a port must be a whole number' })
  .min(0, { error: (issue) => `port ${String(issue.input)} is out of range (0–65535)` })
  .max(65535, { error: (issue) => `port ${String(issue.input)} is out of range (0–65535)` });

const httpStatus = z
  .number({ error: 'expected an HTTP status code between 200 and 599' })
  .int()
  .min(200, { error: (issue) => `status ${String(issue.input)} is out of range (200–599)` })
  .max(599, { error: (issue) => `status ${String(issue.input)} is out of range (200–599)` });

const positiveInt = z.number().int({ error: 'expected a whole number' }).positive();

const urlPath = z
  .string({ error: 'expected a URL path starting with "/"' })
  .regex(/^\//, { error: (issue) => `"${String(issue.input)}" must start with "/"` });

const method = z
  .string()
  .regex(/^[A-Za-z]+$/, { error: 'expected an HTTP method such as GET or POST' })
  .transform((m) => m.toUpperCase());

const scalarText = z
  .union([z.string(), z.number(), z.boolean()], { error: 'expected a string' })
  .transform(String);

const env = z.record(z.string(), scalarText).meta({ description: 'Environment variables' });
const headers = z.record(z.string(), scalarText);

/** A JSON-compatible body for simulated responses and generated load. */
const jsonBody = z.json();

const latency = z.union([
  duration,
  z.strictObject({ p50: duration, p99: duration }).meta({
    description: 'A log-normal latency fitted to its median and 99th percentile',
  }),
]);

const headerMatch = z
  .union([
    scalarText.meta({ description: 'Exact value' }),
    z.strictObject({
      exact: z.string().optional(),
      present: z.boolean().optional(),
      regex: z.string().optional(),
    }),
  ])
  .transform((value) => (typeof value === 'string' ? { exact: value } : value));

/** Request match shared by routes and faults: method, path and headers must all match. */
/** A request match: method, path, headers (routes, faults, the runtime API). */
export const match = z
  .strictObject({
    method: z.union([method, z.array(method).min(1)]).optional(),
    path: urlPath
      .optional()
      .meta({ description: 'Exact (/charges), prefix (/api/*) or template (/items/:id)' }),
    headers: z.record(z.string(), headerMatch).optional(),
  })
  .meta({ description: 'Which requests this applies to; all given conditions must match' })
  .transform(
    ({
      method,
      path,
      headers,
    }): {
      methods?: string[];
      path?: string;
      headers?: Record<string, { exact?: string; present?: boolean; regex?: string }>;
    } => ({
      methods: method === undefined ? undefined : Array.isArray(method) ? method : [method],
      path,
      headers:
        headers &&
        Object.fromEntries(
          Object.entries(headers).map(([name, rule]) => [name.toLowerCase(), rule]),
        ),
    }),
  );

const delayFault = z.union([
  duration,
  z.strictObject({
    duration: duration.optional(),
    p50: duration.optional(),
    p99: duration.optional(),
    percent: percent.optional(),
  }),
]);
const abortFault = z.union([
  httpStatus,
  z.strictObject({ status: httpStatus, percent: percent.optional() }),
]);
const resetFault = z.union([z.literal(true), z.strictObject({ percent: percent.optional() })]);
const bandwidthFault = z.union([
  size,
  z.strictObject({
    rate: size.meta({ description: 'Bytes per second' }),
    percent: percent.optional(),
  }),
]);

/** One fault: optional match, then delay/abort/reset/bandwidth. Also the runtime API body. */
export const faultSchema = z.strictObject({
  match: match.optional(),
  percent: percent.optional().meta({ description: 'Default percent for the actions below' }),
  delay: delayFault.optional(),
  abort: abortFault.optional(),
  reset: resetFault.optional(),
  bandwidth: bandwidthFault.optional(),
});

const retryOn = z.union([
  z.enum(['5xx', 'gateway-error', 'reset', 'connect-failure'], {
    error: (issue) =>
      hinted(
        `"${String(issue.input)}" is not a retry condition`,
        'use 5xx, gateway-error, reset, connect-failure or a status code such as 503',
      ),
  }),
  httpStatus,
]);

/** `5xx`, `gateway-error`, `reset`, `connect-failure` or a status code. */
export type RetryCondition = z.output<typeof retryOn>;

const retries = z
  .strictObject({
    attempts: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(2)
      .meta({ description: 'Retries after the first try (Istio semantics)' }),
    perTryTimeout: duration.optional(),
    retryOn: z.array(retryOn).default(['5xx', 'reset', 'connect-failure']),
  })
  .transform(
    ({
      attempts,
      perTryTimeout,
      retryOn,
    }): {
      attempts: number;
      perTryTimeoutMs?: number;
      retryOn: RetryCondition[];
    } => ({
      attempts,
      /** ms */
      perTryTimeoutMs: perTryTimeout,
      retryOn,
    }),
  );

const circuitBreaker = z
  .strictObject({
    consecutiveErrors: positiveInt.default(5),
    openFor: duration.prefault('30s'),
    maxConcurrent: positiveInt.optional(),
  })
  .transform(
    ({
      consecutiveErrors,
      openFor,
      maxConcurrent,
    }): {
      consecutiveErrors: number;
      openForMs: number;
      maxConcurrent?: number;
    } => ({
      consecutiveErrors,
      /** ms */
      openForMs: openFor,
      maxConcurrent,
    }),
  );

const health = z
  .strictObject({
    path: urlPath.optional().meta({ description: 'HTTP path; a TCP connect when absent' }),
    interval: duration.prefault('2s'),
    timeout: duration.prefault('1s'),
  })
  .transform(
    ({
      path,
      interval,
      timeout,
    }): {
      path?: string;
      intervalMs: number;
      timeoutMs: number;
    } => ({
      path,
      /** ms */
      intervalMs: interval,
      /** ms */
      timeoutMs: timeout,
    }),
  );

const allowRule = z.union([
  z.string(),
  z.strictObject({
    from: z.string(),
    methods: z.array(method).min(1).optional(),
    paths: z
      .array(z.string())
      .min(1)
      .optional()
      .meta({ description: 'Exact, "prefix*" or "*suffix"' }),
  }),
]);

const errorRate = z.strictObject({ status: httpStatus.default(500), percent });

const simCall = z.strictObject({
  service: z.string(),
  name: z
    .string()
    .regex(/^[\w-]+$/)
    .optional()
    .meta({
      description: 'What templates call the result: {{calls.<name>.body.x}} (default: service)',
    }),
  method: method.default('GET'),
  path: urlPath,
  headers: headers.optional(),
  body: jsonBody.optional(),
  timeout: duration
    .optional()
    .meta({ description: "The simulated app's own client timeout for this call (not the mesh's)" }),
  retries: z
    .number()
    .int()
    .min(0)
    .max(10)
    .default(0)
    .meta({ description: "The app's own retries of this call on a 5xx, reset or its timeout" }),
  onError: z
    .union([
      z.enum(['fail', 'ignore']),
      httpStatus,
      z.strictObject({ status: httpStatus.default(502), body: jsonBody.optional() }),
    ])
    .default('fail')
    .meta({
      description:
        'fail: answer 502; ignore: carry on; a status, or {status, body}: answer it (body templated)',
    }),
  fallback: jsonBody.optional().meta({
    description:
      'On failure carry on with this as the call\'s body ({{calls.<name>.body}}), as a page shows "ratings unavailable"',
  }),
});

const simRoute = z.strictObject({
  method: method.default('GET'),
  path: urlPath.meta({
    description: 'Exact (/health), template (/items/:id) or prefix (/api/*, /*)',
  }),
  status: httpStatus.default(200),
  headers: headers.optional(),
  body: jsonBody.optional(),
  latency: latency.optional(),
  errors: errorRate.optional(),
  calls: z.array(simCall).optional(),
  parallel: z.boolean().default(false).meta({
    description: 'Make the calls at once (default: one after another, each seeing the last)',
  }),
});

/** Header names a simulated service forwards on its calls; `x-b3-*` matches by prefix. */
const propagateList = z.array(
  z
    .string()
    .regex(/^[A-Za-z0-9!#$%&'+.^_`|~-]+\*?$/, { error: 'a header name, or a prefix ending in *' }),
);

const sim = z
  .strictObject({
    propagate: propagateList.optional().meta({
      description:
        "Headers this instance forwards on its calls, beside Istio's trace headers (replaces mesh.propagate for it)",
    }),
    spec: z.boolean().default(false).meta({
      description:
        "Answer every operation of the service's OpenAPI spec from its examples (else a value generated from the schema), with the declared status",
    }),
    dynamic: z.boolean().default(false).meta({
      description:
        "Prism's dynamic mode: every answer of `spec: true` made up anew from its schema (examples left aside), seeded by mesh.seed; `Prefer: dynamic=true|false` chooses per request",
    }),
    routes: z.array(simRoute).default([]),
    latency: latency.optional(),
    errors: errorRate.optional(),
  })
  .superRefine((sim, ctx) => {
    if (sim.dynamic && !sim.spec) {
      ctx.addIssue({
        code: 'custom',
        path: ['dynamic'],
        message: 'dynamic answers are made from the spec: set `spec: true` beside it',
      });
    }
  });

const instanceFields = {
  port: port.optional().meta({ description: "The dev server's own port" }),
  command: z.string().min(1).optional(),
  cwd: z.string().optional(),
  env: env.optional(),
  health: health.optional(),
  sim: sim.optional(),
  spec: z.string().optional().meta({
    description: 'OpenAPI document (3.0 or 3.1, YAML or JSON) of this service or version',
  }),
};

const instance = z.strictObject(instanceFields);

const authRequire = z.enum(['none', 'apiKey', 'jwt', 'any']).meta({
  description: 'What a caller must present: nothing, an API key, a JWT, or either',
});

/** An optional, non-empty list of names. */
const names = (description: string) => z.array(z.string()).min(1).optional().meta({ description });

const routeAuth = z.strictObject({
  require: authRequire
    .optional()
    .meta({ description: 'Overrides gateway.auth.require on this route' }),
  scopes: names('JWT scopes a token must carry (all of them)'),
  consumers: names('Only these consumers (an access list); others get 403'),
  groups: names("Only consumers in one of these groups (Kong's ACL); others get 403"),
});

/** Headers that frame an HTTP/1.1 message: a route must not change them. */
const FRAMING_HEADERS = [
  'content-length',
  'transfer-encoding',
  'connection',
  'upgrade',
  'keep-alive',
];

/** Why `name` cannot be a header a route changes, or undefined when it can. */
function headerNameProblem(name: string): string | undefined {
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) return 'not a valid header name';
  if (FRAMING_HEADERS.includes(name.toLowerCase()))
    return `${name.toLowerCase()} frames the message: a route cannot change it`;
  return undefined;
}

/** A header value: one line (no CR or LF). */
const headerValue = z.string().regex(/^[^\r\n]*$/, { error: 'a header value is one line' });

/** Istio's header operations: `set` replaces, `add` appends, `remove` deletes (names lower-cased). */
const headerOperations = z
  .strictObject({
    set: z
      .record(z.string(), headerValue)
      .optional()
      .meta({ description: 'Replace (or add) these headers' }),
    add: z.record(z.string(), headerValue).optional().meta({ description: 'Append these values' }),
    remove: z.array(z.string()).optional().meta({ description: 'Remove these headers' }),
  })
  .superRefine((operations, ctx) => {
    const check = (name: string, path: PropertyKey[]) => {
      const problem = headerNameProblem(name);
      if (problem) ctx.addIssue({ code: 'custom', path, message: problem });
    };
    for (const name of Object.keys(operations.set ?? {})) check(name, ['set', name]);
    for (const name of Object.keys(operations.add ?? {})) check(name, ['add', name]);
    operations.remove?.forEach((name, index) => check(name, ['remove', index]));
  })
  .transform((operations) => ({
    ...(operations.set && { set: lowerKeys(operations.set) }),
    ...(operations.add && { add: lowerKeys(operations.add) }),
    ...(operations.remove && { remove: operations.remove.map((name) => name.toLowerCase()) }),
  }))
  .meta({ description: 'Header operations, applied in the order remove, set, add' });

function lowerKeys(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(record).map(([name, value]) => [name.toLowerCase(), value]),
  );
}

/** One entry of `services.<name>.routes`: where matching calls go, and their own policy. */
const route = z.strictObject({
  name: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'Names the route in call records (else #<index>)' }),
  match: match.optional(),
  to: z.string().optional().meta({ description: 'Send every matching request to this version' }),
  split: z
    .record(z.string(), percent)
    .optional()
    .meta({ description: 'Weights per version; they must sum to 100' }),
  timeout: duration
    .optional()
    .meta({ description: "Whole-call timeout on this route (overrides the service's)" }),
  retries: retries
    .optional()
    .meta({ description: "Retries on this route (override the service's)" }),
  faults: z
    .array(faultSchema)
    .optional()
    .meta({ description: "Faults on this route (in place of the service's own from the file)" }),
  headers: z
    .strictObject({
      request: headerOperations.optional(),
      response: headerOperations.optional(),
    })
    .optional()
    .meta({
      description: "Headers changed on this route's calls and their answers (Istio's headers)",
    }),
  mirror: z
    .strictObject({
      to: z.string().meta({ description: 'The version that gets a copy of each call' }),
      percent: percent.optional().meta({ description: 'Share of the calls copied (default 100)' }),
    })
    .optional()
    .meta({
      description:
        "Copies calls on this route to another version (Istio's mirror): its answers are discarded",
    }),
});

/** One entry of `services:`. */
export const serviceSchema = z.strictObject({
  ...instanceFields,
  upstreams: z.array(z.string()).default([]),
  versions: z.record(z.string(), instance).optional(),
  routes: z.array(route).default([]),
  faults: z.array(faultSchema).default([]),
  timeout: duration.optional().meta({ description: 'Whole-call timeout, retries included' }),
  retries: retries.optional(),
  circuitBreaker: circuitBreaker.optional(),
  allow: z.array(allowRule).optional(),
  auth: routeAuth.optional().meta({
    description:
      'The service as an API product: callers (other services) must present a consumer key or token',
  }),
});

const perWindow = z.strictObject({
  requests: positiveInt,
  per: duration.meta({ description: 'The window: 1s, 1m, 1h, 1d, 30d' }),
});

const gatewayRoute = z.strictObject({
  path: urlPath,
  service: z.string(),
  version: z.string().optional(),
  stripPrefix: z.boolean().default(false),
  auth: routeAuth.optional(),
  rateLimit: perWindow.optional().meta({
    description: 'A limit of this route per consumer (per address without one), on top of the plan',
  }),
});

const jwtSettings = z.strictObject({
  local: z.boolean().default(false).meta({
    description: "Trust meshdev's own development issuer (`meshdev token <consumer>`)",
  }),
  issuer: z.string().optional(),
  audience: z.string().optional(),
  jwks: z
    .string()
    .optional()
    .meta({ description: 'A JWKS file (relative to the config) or a loopback http:// URL' }),
  algorithms: z
    .array(
      z.enum([
        'RS256',
        'RS384',
        'RS512',
        'PS256',
        'PS384',
        'PS512',
        'ES256',
        'ES384',
        'ES512',
        'EdDSA',
      ]),
    )
    .min(1)
    .default(['RS256', 'ES256', 'EdDSA'])
    .meta({ description: 'Signature algorithms accepted (never `none`)' }),
  clockSkew: duration.prefault('30s'),
  consumerClaim: z.string().default('sub').meta({
    description: 'The claim that names the consumer (matched to consumers.<name>.jwt.subject)',
  }),
});

const gatewayAuth = z.strictObject({
  require: authRequire.default('none'),
  apiKeys: z
    .strictObject({
      header: z.string().default('x-api-key'),
      query: z
        .string()
        .optional()
        .meta({ description: 'Also accept the key in this query parameter' }),
    })
    .prefault({}),
  jwt: jwtSettings.optional(),
  forwardCredentials: z
    .boolean()
    .default(false)
    .meta({ description: 'Pass the key or token on to the service (default: stripped)' }),
});

const origin = z.string().regex(/^(\*|https?:\/\/(\*\.)?[^/*]+)$/, {
  error: 'expected an origin such as "http://localhost:5173", "https://*.example.com" or "*"',
});

const cors = z.strictObject({
  origins: z.array(origin).min(1),
  methods: z.array(method).default(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']),
  headers: z.array(z.string()).default(['content-type', 'authorization', 'x-api-key']),
  exposedHeaders: z
    .array(z.string())
    .default([
      'ratelimit',
      'ratelimit-policy',
      'x-ratelimit-limit',
      'x-ratelimit-remaining',
      'x-ratelimit-reset',
      'retry-after',
      'x-meshdev-violations',
    ]),
  credentials: z.boolean().default(false),
  maxAge: duration.prefault('10m'),
});

/** The `gateway:` section. */
export const gatewaySchema = z.strictObject({
  port: listenPort,
  tls: z
    .union([z.boolean(), z.strictObject({ port: listenPort })])
    .default(false)
    .meta({
      description:
        'HTTPS on the gateway: true serves HTTPS on gateway.port; {port} adds an HTTPS port',
    }),
  routes: z.array(gatewayRoute).min(1, { error: 'a gateway needs at least one route' }),
  auth: gatewayAuth.prefault({}),
  cors: cors.optional().meta({ description: 'CORS: preflights answered by the gateway' }),
  preserveHost: z.boolean().default(true).meta({
    description:
      "Forward the client's Host header (dev servers that build URLs or check Host expect it); false: the upstream's address",
  }),
});

/** The `mesh:` section. */
export const meshSchema = z.strictObject({
  name: z.string().min(1),
  trustDomain: z.string().default('meshdev.local'),
  namespace: z.string().default('default'),
  mtls: z.enum(['strict', 'permissive', 'off']).default('strict'),
  certTTL: duration.prefault('24h'),
  admin: z.strictObject({ port: listenPort.default(15000) }).default({ port: 15000 }),
  ports: z.strictObject({ from: listenPort.default(15100) }).default({ from: 15100 }),
  seed: z.number().int().optional().meta({ description: 'Seed for fault and split decisions' }),
  propagate: propagateList.default([]).meta({
    description:
      "Headers simulated services forward from the request they serve to the calls they make, beside Istio's trace headers (x-request-id, traceparent, b3, x-b3-*…), e.g. end-user, cookie",
  }),
  contracts: z.enum(['off', 'report', 'enforce']).optional().meta({
    description:
      "Check every call against the callee's OpenAPI spec: report (default when a spec exists) records violations; enforce refuses them (422/401 before the callee, 502 after)",
  }),
});

const rateLimit = perWindow.extend({
  burst: positiveInt
    .optional()
    .meta({ description: 'Also at most this many in any one second (a spike arrest)' }),
});

/** One entry of `plans:`. */
export const planSchema = z.strictObject({
  rateLimit: rateLimit.optional().meta({ description: 'Requests per window; over it: 429' }),
  quota: perWindow
    .optional()
    .meta({ description: 'Requests per long window (a day, a month); survives restarts' }),
});

/** One entry of `consumers:`. */
export const consumerSchema = z.strictObject({
  plan: z.string().optional(),
  keys: z
    .array(z.string().min(8, { error: 'an API key needs at least 8 characters' }))
    .default([])
    .meta({
      description: 'API keys (use ${VAR} so no secret sits in the file); several for rotation',
    }),
  jwt: z
    .strictObject({ subject: z.string() })
    .optional()
    .meta({ description: 'The JWT claim value naming this consumer (default: its name)' }),
  groups: z.array(z.string()).default([]),
});

/** One entry of `load:`. */
export const loadSchema = z.strictObject({
  name: z.string().optional(),
  method: method.default('GET'),
  path: urlPath,
  headers: headers.optional(),
  body: jsonBody.optional(),
  rps: z.number().positive().optional().meta({ description: 'Open-loop constant rate' }),
  concurrency: positiveInt.optional().meta({ description: 'Closed-loop workers' }),
  duration: duration.optional(),
  ramp: duration.optional(),
  as: z.string().optional().meta({ description: 'Send as this consumer (its first API key)' }),
});

const checkFault = faultSchema.extend({
  service: z.string(),
  version: z.string().optional(),
});

const checkRequest = z.strictObject({
  method: method.default('GET'),
  path: urlPath,
  headers: headers.optional(),
  body: jsonBody.optional(),
  repeat: positiveInt.default(1).meta({ description: 'Send it this many times' }),
  as: z.string().optional().meta({ description: 'Send as this consumer (its first API key)' }),
});

/** A `load:` entry, bounded: by a duration (5 s unless told) and optionally a count. */
const checkLoad = loadSchema.omit({ name: true, ramp: true }).extend({
  requests: positiveInt.optional().meta({ description: 'Stop after this many requests' }),
  duration: duration.prefault('5s'),
});

/** Requests made up from the services' specs (Schemathesis-style), sent through the gateway. */
const checkExplore = z.strictObject({
  services: z.array(z.string()).min(1).optional().meta({
    description:
      'Services whose specs to explore (default: every service with a spec that a gateway route reaches)',
  }),
  perOperation: positiveInt.default(5).meta({ description: 'Requests made up for each operation' }),
  headers: headers.optional().meta({ description: 'Sent with every request (credentials)' }),
  as: z.string().optional().meta({ description: 'Send as this consumer (its first API key)' }),
});

/** A bound on a measured number: `{max: …}`, `{min: …}`, or a bare number meaning max. */
const bound = <T extends z.ZodType>(value: T) =>
  z.union([
    value,
    z.strictObject({
      service: z
        .string()
        .optional()
        .meta({ description: 'Calls to this service (default: the gateway edge)' }),
      min: value.optional(),
      max: value.optional(),
    }),
  ]);

const statusCount = z.union([
  z.number().int().min(0),
  z.strictObject({
    min: z.number().int().min(0).optional(),
    max: z.number().int().min(0).optional(),
  }),
]);

const checkExpect = z.strictObject({
  errorRate: bound(percent)
    .optional()
    .meta({ description: 'Most 5xx and resets, in percent of calls' }),
  p50: bound(duration).optional(),
  p99: bound(duration).optional(),
  status: z
    .record(
      z.string().regex(/^[1-5](\d\d|xx)$/i, { error: 'expected a status such as 200 or 5xx' }),
      statusCount,
    )
    .optional()
    .meta({ description: 'Counts by status or class at the edge: {200: {min: 1}, 5xx: 0}' }),
  violations: z
    .number()
    .int()
    .min(0)
    .default(0)
    .meta({ description: 'Most error-level contract violations (default 0)' }),
  coverage: percent
    .optional()
    .meta({ description: 'Least share of declared operation × status pairs exercised' }),
  calls: z
    .array(
      z.strictObject({ from: z.string(), to: z.string(), min: z.number().int().min(0).default(1) }),
    )
    .optional(),
  exitCode: z.number().int().default(0).meta({ description: 'What `run:` must exit with' }),
});

/** One entry of `checks:`, run by `meshdev check`. */
export const checkSchema = z.strictObject({
  name: z.string().min(1),
  faults: z.array(checkFault).default([]),
  splits: z.record(z.string(), z.record(z.string(), percent)).optional(),
  requests: z.array(checkRequest).default([]),
  load: checkLoad.optional(),
  explore: checkExplore.optional(),
  run: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'A shell command run with MESH_GATEWAY_URL and <SVC>_URL set' }),
  timeout: duration.prefault('60s'),
  expect: checkExpect.prefault({}),
});

/** The structural schema of `mesh.config.yaml`. */
export const configSchema = z
  .strictObject({
    version: z.literal(1, {
      error: (issue) =>
        issue.input === undefined
          ? hinted('missing required key "version"', 'add `version: 1` at the top of the file')
          : `expected version: 1, got ${String(issue.input)}`,
    }),
    mesh: meshSchema,
    gateway: gatewaySchema.optional(),
    services: z.record(z.string(), serviceSchema),
    consumers: z.record(z.string(), consumerSchema).default({}),
    plans: z.record(z.string(), planSchema).default({}),
    load: z.array(loadSchema).default([]),
    checks: z.array(checkSchema).default([]),
  })
  .meta({ title: 'meshdev mesh.config.yaml' });

/** The config as validated by the schema, before cross-field rules and normalization. */
export type RawConfig = z.output<typeof configSchema>;
export type RawService = z.output<typeof serviceSchema>;
export type RawInstance = NonNullable<RawService['versions']>[string];
export type RawMatch = NonNullable<RawService['routes'][number]['match']>;
export type RawFault = RawService['faults'][number];
export type RawSim = NonNullable<RawService['sim']>;
export type RawCheck = z.output<typeof checkSchema>;

// The normalized config (`model.ts`) reuses these outputs instead of restating them.
/** A request match: every given condition must hold. */
export type Match = z.output<typeof match>;
export type HeaderMatch = z.output<typeof headerMatch>;
export type RetryPolicy = z.output<typeof retries>;
export type CircuitBreakerPolicy = z.output<typeof circuitBreaker>;
export type HealthCheck = z.output<typeof health>;
export type GatewayRoute = z.output<typeof gatewayRoute>;
export type MtlsMode = RawConfig['mesh']['mtls'];
