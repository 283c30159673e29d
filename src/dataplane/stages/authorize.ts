/**
 * Authorize stage: the service's `allow` rules (Istio AuthorizationPolicy semantics, see
 * `authorize.ts`) decide; a denial is 403 `UAEX` naming the principal and the config line
 * to change. One decision function, two places it runs:
 * - inbound (and inbound upgrades): on the principal `identify` established;
 * - on the hop (outbound and upgrade hops), only where the hop goes straight to the app
 *   (`mtls: off`), because then no inbound listener stands between them.
 */
import type { ServiceConfig } from '../../config/model.js';
import { authorize } from '../authorize.js';
import type { EntryContext } from '../entry-context.js';
import { errorOutcome } from '../error-outcome.js';
import type { HopContext, Next, Outcome, Stage } from '../pipeline.js';
import type { ResponseFlag } from '../../telemetry/call-record.js';
import { principalOf } from './upstream.js';

/**
 * The one check both stages run: `allow` decides; a denial is 403 `UAEX` naming the
 * principal and the config line to change.
 */
function check(
  ctx: { method: string; pathname: string; flags: Set<ResponseFlag> },
  service: ServiceConfig,
  version: string | undefined,
  principal: string | undefined,
  next: Next,
): Promise<Outcome> {
  const decision = authorize(service, principal, ctx.method, ctx.pathname);
  if (decision.allowed) return next();
  ctx.flags.add('UAEX');
  return Promise.resolve(
    errorOutcome('unauthorized', {
      service: service.name,
      version,
      caller: principal,
      detail: decision.reason,
    }),
  );
}

/** The inbound stage: `service()` is the config in force (hot reload changes `allow`). */
export function authorizeStage(service: () => ServiceConfig, version: string): Stage<EntryContext> {
  return {
    name: 'authorize',
    handle: (ctx, next) => check(ctx, service(), version, ctx.caller, next),
  };
}

/** The hop stage: checks `allow` itself when the target is the app's own port. */
export const authorizeHopStage: Stage<HopContext> = {
  name: 'authorize',
  handle(ctx, next) {
    if (!ctx.service.target(ctx.version!)?.direct) return next();
    return check(ctx, ctx.service.config, ctx.version, principalOf(ctx.caller), next);
  },
};
