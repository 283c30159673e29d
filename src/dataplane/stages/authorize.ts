/**
 * Authorize stage: the service's `allow` rules (Istio AuthorizationPolicy semantics, see
 * `authorize.ts`) decide; a denial is 403 `UAEX` naming the principal and the config line
 * to change. One decision function, two places it runs:
 * - inbound (and inbound upgrades): on the principal `identify` established;
 * - on the hop (outbound and upgrade hops), with `mtls: off`: no certificate says who calls,
 *   but the caller's own outbound listener knows — so the hop decides, whether it goes
 *   straight to the app or (for a service with `auth`) through the inbound listener.
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

/**
 * The inbound stage: `service()` is the config in force (hot reload changes `allow`). With
 * `mtls: off` the hop already decided (see above): no identity reaches this listener.
 */
export function authorizeStage(
  service: () => ServiceConfig,
  version: string,
  mtlsOff = false,
): Stage<EntryContext> {
  return {
    name: 'authorize',
    handle: (ctx, next) => (mtlsOff ? next() : check(ctx, service(), version, ctx.caller, next)),
  };
}

/** The hop stage: checks `allow` itself when the target is the app's own port. */
export const authorizeHopStage: Stage<HopContext> = {
  name: 'authorize',
  handle(ctx, next) {
    if (!ctx.service.target(ctx.version!)?.hopAuthorizes) return next();
    return check(ctx, ctx.service.config, ctx.version, principalOf(ctx.caller), next);
  },
};
