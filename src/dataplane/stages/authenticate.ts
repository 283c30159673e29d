/**
 * Authenticate stage (gateway, after `gateway-route`): recognizes the API consumer from
 * an API key (header or query parameter) or a JWT (`Authorization: Bearer`), enforces
 * what the route requires (`none | apiKey | jwt | any`, required scopes, an access list
 * of consumers), strips the credential before forwarding (unless `forwardCredentials`)
 * and tells the service who called in Kong's headers (`x-consumer-id`,
 * `x-consumer-username`, `x-credential-identifier`, `x-consumer-groups`).
 * Refusals: 401 with `WWW-Authenticate` for missing or invalid credentials, 403 for a
 * known consumer without access; both flagged `UAEX`.
 */
import type { AuthRequire, GatewayAuth, GatewayRoute, ServiceConfig } from '../../config/model.js';
import type { ApiEdge, Consumer } from '../../edge/api-edge.js';
import type { EntryContext } from '../entry-context.js';
import { errorOutcome } from '../error-outcome.js';
import { withoutHeaders } from '../headers.js';
import type { Next, Outcome, Stage } from '../pipeline.js';
import type { JWTPayload } from 'jose';

/** What one place (a gateway route, a service's inbound side) asks of its callers. */
export interface AuthPolicy {
  require: AuthRequire;
  scopes?: readonly string[];
  consumers?: readonly string[];
  /** Consumers in one of these groups only. */
  groups?: readonly string[];
  /** How refusals name the place: `/admin`, `payments`. */
  label: string;
  /** Who refuses, in the error body: `gateway`, or the service. */
  service: string;
}

/** Where keys are read when the config has no gateway (`auth` on a service only). */
const DEFAULT_AUTH: GatewayAuth = {
  require: 'none',
  apiKeys: { header: 'x-api-key' },
  forwardCredentials: false,
};

/** The gateway's policy: the route's `auth`, else `gateway.auth.require`. */
export function gatewayPolicy(edge: ApiEdge, ctx: EntryContext): AuthPolicy {
  const route = ctx.route;
  // Built once per route and edge, not per request. The edge is checked too: the gateway
  // keeps its route objects across a reload applied in place, while the edge (and with it
  // `gateway.auth.require`) is the new config's.
  const cached = route && routePolicies.get(route);
  if (cached?.edge === edge) return cached.policy;
  const policy: AuthPolicy = {
    require: impliedRequirement(edge.requirement(route), route?.auth),
    scopes: route?.auth?.scopes,
    consumers: route?.auth?.consumers,
    groups: route?.auth?.groups,
    label: route?.path ?? '/',
    service: 'gateway',
  };
  if (route) routePolicies.set(route, { edge, policy });
  return policy;
}

const routePolicies = new WeakMap<GatewayRoute, { edge: ApiEdge; policy: AuthPolicy }>();

/**
 * What a place requires once its access list is counted: consumers, groups or scopes can
 * only be checked against a caller the edge recognized, so with `require: none` they ask
 * for a credential of either kind (Kong's ACL refuses a caller it cannot name).
 */
function impliedRequirement(
  require: AuthRequire,
  auth: Pick<AuthPolicy, 'consumers' | 'groups' | 'scopes'> | undefined,
): AuthRequire {
  if (require !== 'none' || !auth) return require;
  return auth.consumers || auth.groups || auth.scopes?.length ? 'any' : 'none';
}

/**
 * Builds the authenticate stage over the edge of the config in force; `policyOf` says what
 * the place asks (undefined: nothing — the stage only recognizes a consumer it can).
 */
export function authenticateStage(
  edgeOf: () => ApiEdge,
  policyOf: (edge: ApiEdge, ctx: EntryContext) => AuthPolicy | undefined = gatewayPolicy,
): Stage<EntryContext> {
  return {
    name: 'authenticate',
    handle(ctx, next): Promise<Outcome> {
      const edge = edgeOf();
      const policy = policyOf(edge, ctx);
      if (!policy) return next();
      const auth = edge.config.gateway?.auth ?? DEFAULT_AUTH;
      const key = apiKeyOf(ctx, auth);
      const bearer = bearerOf(ctx.headers.authorization);
      // A public route called without credentials: nobody to recognize, no async frame.
      if (policy.require === 'none' && key === undefined && bearer === undefined) return next();
      const requirement = policy.require;
      const byKey = key !== undefined && requirement !== 'jwt' ? recognizeKey(edge, key) : NOBODY;
      // Only a new JWT's signature check is worth awaiting; a key, or a token verified
      // before, is decided without a turn of the event loop.
      if (!byKey.consumer && bearer !== undefined && edge.jwt && requirement !== 'apiKey') {
        const claims = edge.jwt.verifiedClaims(bearer);
        if (claims)
          return decide(ctx, next, policy, auth, recognizeClaims(edge, auth, claims), true);
        return recognizeToken(edge, auth, bearer).then((byToken) =>
          decide(ctx, next, policy, auth, byToken, true),
        );
      }
      return decide(ctx, next, policy, auth, byKey, bearer !== undefined);
    },
  };
}

/** Who a credential names, or why it names nobody. */
interface Recognized {
  consumer?: Consumer;
  failure?: string;
}

const NOBODY: Recognized = {};
const UNKNOWN_KEY: Recognized = { failure: 'the API key is not valid' };

function recognizeKey(edge: ApiEdge, key: string): Recognized {
  const owner = edge.keys.find(key);
  return owner ? { consumer: edge.keyConsumer(owner) } : UNKNOWN_KEY;
}

async function recognizeToken(
  edge: ApiEdge,
  auth: GatewayAuth,
  bearer: string,
): Promise<Recognized> {
  const result = await edge.jwt!.verify(bearer);
  if (!result.ok) return { failure: result.reason };
  return recognizeClaims(edge, auth, result.claims);
}

/**
 * The consumer a verified token's claims name. Built once per claims object: the verifier
 * hands out the same object while the token stays cached, and a verifier (with its
 * claims) belongs to one config's edge, whose consumers are what the subject is looked up in.
 */
function recognizeClaims(edge: ApiEdge, auth: GatewayAuth, claims: JWTPayload): Recognized {
  let recognized = byClaims.get(claims);
  if (!recognized) {
    const claim = claims[auth.jwt!.consumerClaim];
    const named = typeof claim === 'string' ? edge.consumerBySubject(claim) : undefined;
    recognized = named
      ? {
          consumer: Object.freeze({
            name: named.name,
            credential: String(claims.iss ?? 'jwt'),
            kind: 'jwt',
            scopes: Object.freeze(scopesOf(claims)),
            groups: named.groups,
            plan: named.plan,
          }),
        }
      : { failure: `the token's ${auth.jwt!.consumerClaim} claim names no consumer` };
    byClaims.set(claims, recognized);
  }
  return recognized;
}

const byClaims = new WeakMap<JWTPayload, Recognized>();

/** Admits the recognized consumer (Kong's headers set, its credential stripped) or refuses. */
function decide(
  ctx: EntryContext,
  next: Next,
  policy: AuthPolicy,
  auth: GatewayAuth,
  { consumer, failure }: Recognized,
  tokenSent: boolean,
): Promise<Outcome> {
  if (policy.require !== 'none' && !consumer) {
    return Promise.resolve(refuse(ctx, auth, policy, failure, tokenSent));
  }
  if (consumer) {
    const denied = accessDenied(policy, consumer);
    if (denied) {
      ctx.flags.add('UAEX');
      ctx.consumer = consumer;
      return Promise.resolve(
        errorOutcome('consumer_forbidden', {
          service: policy.service,
          caller: consumer.name,
          detail: denied,
        }),
      );
    }
    ctx.consumer = consumer;
    ctx.headers['x-consumer-id'] = consumer.name;
    ctx.headers['x-consumer-username'] = consumer.name;
    ctx.headers['x-credential-identifier'] = consumer.credential;
    if (consumer.groups.length > 0) ctx.headers['x-consumer-groups'] = consumer.groups.join(', ');
    // Only a credential the gateway recognized is its own to strip; others pass untouched.
    if (!auth.forwardCredentials) {
      stripCredentials(ctx, auth, consumer.kind === 'apiKey', consumer.kind === 'jwt');
    }
  }
  return next();
}

function apiKeyOf(ctx: EntryContext, auth: GatewayAuth): string | undefined {
  const header = ctx.headers[keyHeaderOf(auth)];
  if (typeof header === 'string') return header;
  if (Array.isArray(header)) return header[0];
  if (!auth.apiKeys.query) return undefined;
  const query = ctx.path.includes('?') ? ctx.path.slice(ctx.path.indexOf('?') + 1) : '';
  return new URLSearchParams(query).get(auth.apiKeys.query) ?? undefined;
}

/** The API-key header's name as Node gives request headers (lower case), once per config. */
function keyHeaderOf(auth: GatewayAuth): string {
  let name = keyHeaders.get(auth);
  if (name === undefined) {
    name = auth.apiKeys.header.toLowerCase();
    keyHeaders.set(auth, name);
  }
  return name;
}

const keyHeaders = new WeakMap<GatewayAuth, string>();

/**
 * The token of an `Authorization: Bearer <token>` header (the scheme in any case, RFC 9110
 * §11.1), or undefined for another scheme or a blank or spaced token. Read by hand: a
 * regular expression walks every character of a 400-character token on every call.
 */
export function bearerOf(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length <= BEARER.length) return undefined;
  for (let i = 0; i < BEARER.length; i++) {
    // `| 0x20` lower-cases an ASCII letter (and leaves other bytes unequal).
    if ((value.charCodeAt(i) | 0x20) !== BEARER.charCodeAt(i)) return undefined;
  }
  let start = BEARER.length;
  while (start < value.length && isBlank(value.charCodeAt(start))) start++;
  // The scheme must be followed by a space, and the token must not hold one.
  if (start === BEARER.length || start === value.length) return undefined;
  const token = value.slice(start);
  return token.includes(' ') || token.includes('\t') ? undefined : token;
}

const BEARER = 'bearer';

function isBlank(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

function scopesOf(claims: Record<string, unknown>): string[] {
  if (typeof claims.scope === 'string') return claims.scope.split(' ').filter(Boolean);
  if (Array.isArray(claims.scp))
    return claims.scp.filter((s): s is string => typeof s === 'string');
  return [];
}

/** Why a recognized consumer may not use this place, if it may not. */
function accessDenied(policy: AuthPolicy, consumer: Consumer): string | undefined {
  if (policy.consumers && !policy.consumers.includes(consumer.name)) {
    return `consumer ${consumer.name} may not call ${policy.label} (allowed: ${policy.consumers.join(', ')})`;
  }
  if (policy.groups && !policy.groups.some((group) => consumer.groups.includes(group))) {
    return `consumer ${consumer.name} is in none of the groups ${policy.groups.join(', ')} that may call ${policy.label}`;
  }
  if (!policy.scopes?.length) return undefined;
  const missing = policy.scopes.filter((scope) => !consumer.scopes.includes(scope));
  if (missing.length > 0) {
    return `${policy.label} requires the scope${missing.length > 1 ? 's' : ''} ${missing.join(' ')}${consumer.kind === 'apiKey' ? ' (scopes come with a JWT)' : ''}`;
  }
  return undefined;
}

function refuse(
  ctx: EntryContext,
  auth: GatewayAuth,
  policy: AuthPolicy,
  failure: string | undefined,
  tokenSent: boolean,
): Outcome {
  const requirement = policy.require;
  ctx.flags.add('UAEX');
  const key = `an API key in ${auth.apiKeys.header}${auth.apiKeys.query ? ` or ?${auth.apiKeys.query}=` : ''}`;
  const wanted =
    requirement === 'apiKey'
      ? key
      : requirement === 'jwt'
        ? 'a JWT in Authorization: Bearer'
        : `${key} or a JWT in Authorization: Bearer`;
  const outcome = errorOutcome('unauthenticated', {
    service: policy.service,
    detail: failure ? `${failure} — this route needs ${wanted}` : `this route needs ${wanted}`,
  });
  if (outcome.kind !== 'response') return outcome;
  const challenges: string[] = [];
  if (requirement !== 'jwt')
    challenges.push(`Key realm="meshdev", header="${auth.apiKeys.header}"`);
  if (requirement !== 'apiKey') {
    challenges.push(
      tokenSent && failure
        ? `Bearer realm="meshdev", error="invalid_token", error_description="${failure.replace(/"/g, "'")}"`
        : 'Bearer realm="meshdev"',
    );
  }
  outcome.headers['www-authenticate'] = challenges;
  return outcome;
}

function stripCredentials(
  ctx: EntryContext,
  auth: GatewayAuth,
  keyUsed: boolean,
  tokenUsed: boolean,
): void {
  const removed: string[] = [];
  if (keyUsed) {
    removed.push(keyHeaderOf(auth));
    const name = auth.apiKeys.query;
    const at = ctx.path.indexOf('?');
    if (name && at >= 0) {
      const params = new URLSearchParams(ctx.path.slice(at + 1));
      if (params.has(name)) {
        params.delete(name);
        const rest = params.toString();
        ctx.path = ctx.path.slice(0, at) + (rest ? `?${rest}` : '');
      }
    }
  }
  if (tokenUsed) removed.push('authorization');
  if (removed.length > 0) ctx.headers = withoutHeaders(ctx.headers, removed);
}

/** The header the inbound side uses to tell the caller's hop which consumer it recognized. */
export const CONSUMER_REPORT_HEADER = 'x-meshdev-consumer';

/**
 * Authenticate on a service's inbound side (`services.<name>.auth`, an east–west API
 * product): the same recognition and refusals as the gateway, the consumer reported back
 * to the caller's hop (for its call record) in `x-meshdev-consumer`.
 */
export function inboundAuthenticateStage(
  edgeOf: () => ApiEdge,
  service: () => ServiceConfig,
): Stage<EntryContext> {
  const stage = authenticateStage(edgeOf, () => {
    const config = service();
    if (!config.auth) return undefined;
    // One policy per service of the config in force (a reload brings new service objects).
    let policy = servicePolicies.get(config);
    if (!policy) {
      policy = {
        ...config.auth,
        require: impliedRequirement(config.auth.require, config.auth),
        label: config.name,
        service: config.name,
      };
      servicePolicies.set(config, policy);
    }
    return policy;
  });
  return {
    name: 'authenticate',
    handle(ctx, next) {
      // A service without `auth` recognizes nobody: no stage, and no reaction per call
      // (the stage stays in the array, so a reload that adds `auth` applies at once).
      if (!service().auth) return next();
      return stage.handle(ctx, next).then((outcome) => {
        if (ctx.consumer && outcome.kind === 'response') {
          outcome.headers[CONSUMER_REPORT_HEADER] = ctx.consumer.name;
        }
        return outcome;
      });
    },
  };
}

const servicePolicies = new WeakMap<ServiceConfig, AuthPolicy>();
