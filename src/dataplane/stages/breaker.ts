/**
 * Breaker stage: refuses at once (503 `UO`) while the instance's breaker is open or at
 * `maxConcurrent`, and records each call's final outcome (retries included).
 */
import { errorOutcome } from '../error-outcome.js';
import type { HopContext, Outcome, Stage } from '../pipeline.js';

/** Whether an outcome counts as a failure for the breaker: 5xx or no answer. */
export function isFailure(outcome: Outcome): boolean {
  return outcome.kind === 'reset' || outcome.status >= 500;
}

export const breakerStage: Stage<HopContext> = {
  name: 'breaker',
  async handle(ctx, next) {
    const breaker = ctx.service.breaker(ctx.version!);
    if (!breaker) return next();
    const refusal = breaker.acquire();
    if (refusal) {
      ctx.flags.add('UO');
      return errorOutcome(refusal === 'open' ? 'circuit_open' : 'overflow', {
        service: ctx.service.name,
        version: ctx.version,
        detail: refusal === 'overflow' ? `${breaker.active} in flight` : undefined,
      });
    }
    let outcome: Outcome | undefined;
    try {
      outcome = await next();
      return outcome;
    } finally {
      breaker.release(outcome !== undefined && !isFailure(outcome));
    }
  },
};
