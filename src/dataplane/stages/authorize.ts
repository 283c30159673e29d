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
import type { HopContext, Stage } from '../pipeline.js';
import { principalOf } from './upstream.js';

/** The inbound stage: `service()` is the config in force (hot reload changes `allow`). */
export function authorizeStage(service: () => ServiceConfig, version: string): Stage<EntryContext> {
  return {
    name: 'authorize',
    handle(ctx, next) {
      const config = service();
      const decision = authorize(config, ctx.caller, ctx.method, ctx.pathname);
      if (decision.allowed) return next();
      ctx.flags.add('UAEX');
      return Promise.resolve(
        errorOutcome('unauthorized', {
          service: config.name,
          version,
          caller: ctx.caller,
          detail: decision.reason,
        }),
      );
    },
  };
}

/** The hop stage: checks `allow` itself when the target is the app's own port. */
export const authorizeHopStage: Stage<HopContext> = {
  name: 'authorize',
  handle(ctx, next) {
    const target = ctx.service.target(ctx.version!);
    if (!target?.direct) return next();
    const principal = principalOf(ctx.caller);
    const decision = authorize(ctx.service.config, principal, ctx.method, ctx.pathname);
    if (decision.allowed) return next();
    ctx.flags.add('UAEX');
    return Promise.resolve(
      errorOutcome('unauthorized', {
        service: ctx.service.name,
        version: ctx.version,
        caller: principal,
        detail: decision.reason,
      }),
    );
  },
};
