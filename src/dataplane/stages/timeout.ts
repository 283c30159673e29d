/**
 * Timeout stage, per attempt: each attempt gets `perTryTimeout` bounded by what is left
 * of the whole-call `timeout` (retries included). When the timer fires, the attempt is
 * aborted and answered 504 `UT`, which retry may retry like any 5xx.
 */
import { Cancel } from '../../lib/cancel.js';
import { errorOutcome } from '../error-outcome.js';
import type { HopContext, Outcome, Stage } from '../pipeline.js';
import { discard } from './retry.js';

export const timeoutStage: Stage<HopContext> = {
  name: 'timeout',
  handle(ctx, next) {
    const perTry = (ctx.route?.rule.retries ?? ctx.service.config.retries)?.perTryTimeoutMs;
    const left =
      ctx.deadline === undefined ? undefined : Math.max(0, ctx.deadline - ctx.clock.now());
    const budget =
      perTry === undefined ? left : left === undefined ? perTry : Math.min(perTry, left);
    if (budget === undefined) {
      // No timer: the attempt ends only when the caller goes away.
      ctx.attemptSignal = ctx.clientSignal;
      return next();
    }
    const { cancel: attempt, release } = Cancel.child(ctx.clientSignal);
    ctx.attemptSignal = attempt;
    // One promise and one timer per attempt (a Promise.race over a timer promise costs
    // two more promises and their reactions on every call).
    let running: Promise<Outcome>;
    try {
      running = next();
    } catch (error) {
      release();
      throw error;
    }
    return new Promise<Outcome>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        release();
        attempt.abort();
        // The aborted attempt settles soon; drop whatever it produces.
        running.then(discard, () => {});
        ctx.flags.add('UT');
        resolve(
          errorOutcome(
            'upstream_timeout',
            { service: ctx.service.name, version: ctx.version, timeoutMs: budget },
            { cause: 'timeout' },
          ) as Outcome,
        );
      }, budget);
      const finish = () => {
        settled = true;
        clearTimeout(timer);
        release();
      };
      running.then(
        (outcome) => {
          if (settled) return;
          finish();
          resolve(outcome);
        },
        (error: unknown) => {
          if (settled) return;
          finish();
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  },
};
