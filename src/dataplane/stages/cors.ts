/**
 * CORS stage (gateway, right after `normalize`, when `gateway.cors` is set): preflights
 * are answered here and never forwarded — 204 with the allowed origin, methods, headers
 * and max-age, or 403 with `x-meshdev-cors` saying why; actual cross-origin requests get
 * `Access-Control-Allow-Origin` (and the exposed headers, RateLimit ones included) on
 * their answer. Origins are exact, `https://*.example.com` (any subdomain) or `*`.
 */
import type { CorsConfig } from '../../config/model.js';
import type { EntryContext } from '../entry-context.js';
import { errorOutcome } from '../error-outcome.js';
import type { Outcome, Stage } from '../pipeline.js';

/** The response header that explains a refused preflight. */
export const CORS_DEBUG_HEADER = 'x-meshdev-cors';

/** True when `origin` is allowed by `patterns`. */
export function originAllowed(origin: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) => {
    if (pattern === '*' || pattern === origin) return true;
    const wildcard = /^(https?):\/\/\*\.(.+)$/.exec(pattern);
    if (!wildcard) return false;
    const [, scheme, domain] = wildcard;
    return origin.startsWith(`${scheme}://`) && origin.endsWith(`.${domain}`);
  });
}

/** Builds the CORS stage for `cors`. */
export function corsStage(cors: () => CorsConfig | undefined): Stage<EntryContext> {
  return {
    name: 'cors',
    handle(ctx, next): Promise<Outcome> {
      const config = cors();
      const origin = ctx.req.headers.origin;
      // Not cross-origin, or no CORS configured: nothing to do, no async frame.
      if (!config || typeof origin !== 'string') return next();
      const allowed = originAllowed(origin, config.origins);
      const requested = ctx.req.headers['access-control-request-method'];
      if (ctx.method === 'OPTIONS' && typeof requested === 'string') {
        return Promise.resolve(
          preflight(config, origin, allowed, requested.toUpperCase(), requestedHeaders(ctx)),
        );
      }
      return next().then((outcome) => {
        if (!allowed || outcome.kind !== 'response') return outcome;
        Object.assign(outcome.headers, originHeaders(config, origin));
        if (config.exposedHeaders.length > 0) {
          outcome.headers['access-control-expose-headers'] = config.exposedHeaders.join(', ');
        }
        return outcome;
      });
    },
  };
}

function requestedHeaders(ctx: EntryContext): string[] {
  const raw = ctx.req.headers['access-control-request-headers'];
  return (typeof raw === 'string' ? raw : '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
}

function preflight(
  config: CorsConfig,
  origin: string,
  allowed: boolean,
  method: string,
  headers: string[],
): Outcome {
  const why = !allowed
    ? `origin ${origin} is not in gateway.cors.origins`
    : !config.methods.includes(method)
      ? `method ${method} is not in gateway.cors.methods`
      : headers.find((h) => !config.headers.includes(h))
        ? `header ${headers.find((h) => !config.headers.includes(h))} is not in gateway.cors.headers`
        : undefined;
  if (why) {
    const outcome = errorOutcome('cors_refused', {
      service: 'gateway',
      detail: `CORS preflight refused: ${why}`,
    });
    if (outcome.kind === 'response') outcome.headers[CORS_DEBUG_HEADER] = why;
    return outcome;
  }
  return {
    kind: 'response',
    status: 204,
    headers: {
      ...originHeaders(config, origin),
      'access-control-allow-methods': config.methods.join(', '),
      'access-control-allow-headers': config.headers.join(', '),
      'access-control-max-age': String(Math.round(config.maxAgeMs / 1000)),
      'content-length': '0',
    },
    body: null,
  };
}

function originHeaders(config: CorsConfig, origin: string): Record<string, string> {
  const wildcard = config.origins.includes('*') && !config.credentials;
  return {
    'access-control-allow-origin': wildcard ? '*' : origin,
    ...(config.credentials ? { 'access-control-allow-credentials': 'true' } : {}),
    vary: 'Origin',
  };
}
