/**
 * Limit stage (gateway, after `authenticate`): the caller's plan — its consumer's, or
 * `plans.anonymous` for callers without credentials, keyed by client address — counts the
 * request against its rate limit and quota. Over either: 429 with `Retry-After`, flag
 * `RL`. Every response on a limited route carries RateLimit / RateLimit-Policy and the
 * X-RateLimit-* headers.
 */
import { ANONYMOUS_PLAN } from '../../config/model.js';
import type { ApiEdge } from '../../edge/api-edge.js';
import type { PlanLimits } from '../../edge/plan-limits.js';
import type { EntryContext } from '../entry-context.js';
import { errorOutcome } from '../error-outcome.js';
import type { Outcome, Stage } from '../pipeline.js';

/** Builds the limit stage over the edge of the config in force and the mesh's counters. */
export function limitStage(
  edgeOf: () => ApiEdge,
  limits: PlanLimits,
  planOf: (consumer: string) => string | undefined = () => undefined,
): Stage<EntryContext> {
  return {
    name: 'limit',
    async handle(ctx, next): Promise<Outcome> {
      const plans = edgeOf().config.plans;
      const consumer = ctx.consumer;
      // A runtime overlay (`meshdev plan set`) wins over the file's plan.
      const planName = consumer ? (planOf(consumer.name) ?? consumer.plan) : ANONYMOUS_PLAN;
      const plan = planName === undefined ? undefined : plans[planName];
      if (!plan) return next();
      const key = consumer ? consumer.name : `anonymous:${ctx.req.socket.remoteAddress ?? '?'}`;
      const decision = await limits.take(plan, key);
      if (!decision.allowed) {
        ctx.flags.add('RL');
        const quota = decision.refusedBy === 'quota';
        const who = consumer ? `consumer ${consumer.name}` : 'this client';
        const outcome = errorOutcome(quota ? 'quota_exceeded' : 'rate_limited', {
          service: 'gateway',
          caller: consumer?.name,
          detail: quota
            ? `${who} used its ${plan.name} quota of ${plan.quota!.requests} requests; it renews in ${decision.retryAfterS}s`
            : `${who} is over its ${plan.name} rate limit of ${plan.rateLimit!.requests} requests; retry in ${decision.retryAfterS}s`,
        });
        return withHeaders(outcome, decision.headers);
      }
      return withHeaders(await next(), decision.headers);
    },
  };
}

function withHeaders(outcome: Outcome, headers: Record<string, string>): Outcome {
  if (outcome.kind !== 'response') return outcome;
  outcome.headers = { ...outcome.headers, ...headers };
  return outcome;
}
