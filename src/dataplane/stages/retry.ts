/**
 * Retry stage: retries an attempt whose outcome matches `retryOn`, with jittered
 * exponential backoff from 25 ms (Envoy's default), while the whole-call deadline allows
 * and the body is replayable (≤ 64 KiB). Exhausted retries answer the last outcome,
 * flagged `URX`. Faults sit below this stage, so injected failures are retried too.
 */
import type { RetryCondition, RetryPolicy } from '../../config/model.js';
import type { HopContext, Next, Outcome, Stage } from '../pipeline.js';
import { dropBody, isReplayable } from '../request-body.js';

/** Backoff base and cap, ms. */
export const BACKOFF_BASE_MS = 25;
export const BACKOFF_MAX_MS = 250;

/** Whether `outcome` should be retried under `conditions`. */
export function shouldRetry(outcome: Outcome, conditions: readonly RetryCondition[]): boolean {
  const status = outcome.kind === 'reset' ? 0 : outcome.status;
  const cause = outcome.kind === 'reset' ? 'reset' : outcome.cause;
  return conditions.some((condition) => {
    switch (condition) {
      case '5xx':
        return status >= 500 || cause === 'reset' || cause === 'connect-failure';
      case 'gateway-error':
        return status === 502 || status === 503 || status === 504;
      case 'reset':
        return cause === 'reset';
      case 'connect-failure':
        return cause === 'connect-failure';
      default:
        return status === condition;
    }
  });
}

/** Drops the body of an outcome that will not be sent. */
export function discard(outcome: Outcome): void {
  if (outcome.kind === 'response') dropBody(outcome.body);
}

export const retryStage: Stage<HopContext> = {
  name: 'retry',
  handle(ctx, next) {
    const policy = ctx.route?.rule.retries ?? ctx.service.config.retries;
    // No retry policy: one attempt, no async frame (a promise and a microtask per call).
    if (!policy) {
      ctx.attempts = 1;
      return next();
    }
    return withRetries(ctx, next, policy);
  },
};

/** Runs attempts until one is not retryable under `policy`, or tries or time run out. */
async function withRetries(ctx: HopContext, next: Next, policy: RetryPolicy): Promise<Outcome> {
  const tries = isReplayable(ctx.body) ? 1 + policy.attempts : 1;
  for (let attempt = 1; ; attempt++) {
    ctx.attempts = attempt;
    const outcome = await next();
    const retryable = shouldRetry(outcome, policy.retryOn);
    if (!retryable) return outcome;
    const timeLeft = ctx.deadline === undefined ? Infinity : ctx.deadline - ctx.clock.now();
    const backoff = ctx.random() * Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
    if (attempt >= tries || timeLeft <= backoff || ctx.clientSignal.aborted) {
      if (tries > 1) ctx.flags.add('URX');
      return outcome;
    }
    discard(outcome);
    await ctx.clock.sleep(backoff, ctx.clientSignal);
  }
}
