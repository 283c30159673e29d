/**
 * Normalize stage, first on every entry (upgrades included): the request target becomes
 * a normalized origin-form path (dot-segments removed, unreserved escapes decoded,
 * absolute-form reduced; refused with 400 when it cannot be) and the one header policy
 * applies (`forwardRequestHeaders`). `OPTIONS *` is answered here: it asks about the
 * server, which is meshdev's listener, not any app behind it.
 */
import type { EntryContext } from '../entry-context.js';
import { errorOutcome } from '../error-outcome.js';
import { forwardRequestHeaders } from '../headers.js';
import { normalizeTarget } from '../normalize-path.js';
import type { Outcome, Stage } from '../pipeline.js';

/** What meshdev's listeners accept, as `OPTIONS *` reports it. */
const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

export const normalizeStage: Stage<EntryContext> = {
  name: 'normalize',
  handle(ctx, next) {
    const { req } = ctx;
    const raw = req.url ?? '/';
    if (raw === '*' && ctx.method === 'OPTIONS') {
      return Promise.resolve({
        kind: 'response',
        status: 200,
        headers: { allow: ALLOWED_METHODS, 'content-length': '0' },
        body: null,
      } satisfies Outcome);
    }
    const target = normalizeTarget(raw);
    if ('refused' in target) {
      return Promise.resolve(
        errorOutcome('bad_request', { service: ctx.listener, detail: target.refused }),
      );
    }
    ctx.path = target.path;
    ctx.pathname = target.pathname;
    ctx.headers = forwardRequestHeaders(req.headers, {
      address: req.socket.remoteAddress,
      host: target.authority ?? req.headers.host,
      proto: ctx.proto,
      edge: ctx.edge,
      upgrade: ctx.upgrade !== undefined,
      preserveHost: ctx.preserveHost !== false,
    });
    return next();
  },
};
