/**
 * Breaker stage: refuses at once (503 `UO`) while the instance's breaker is open or at
 * `maxConcurrent`, and records each call's final outcome (retries included).
 */
import { errorOutcome } from '../error-outcome.js';
import type { CircuitBreaker } from '../circuit-breaker.js';
import type { HopContext, Next, Outcome, Stage } from '../pipeline.js';

/** Whether an outcome counts as a failure for the breaker: 5xx or no answer. */
export function isFailure(outcome: Outcome): boolean {
  return outcome.kind === 'reset' || outcome.status >= 500;
}

export const breakerStage: Stage<HopContext> = {
  name: 'breaker',
  handle(ctx, next) {
    const breaker = ctx.service.breaker(ctx.version!);
    // No breaker configured: no async frame (a promise and a microtask per call).
    if (!breaker) return next();
    return guarded(ctx, next, breaker);
  },
};

/** Runs `next` under `breaker`: refused while it is open or full, its outcome counted. */
async function guarded(ctx: HopContext, next: Next, breaker: CircuitBreaker): Promise<Outcome> {
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
}
