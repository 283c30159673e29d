/**
 * Limit stage (gateway, after `authenticate`): the caller's plan — its consumer's, or
 * `plans.anonymous` for callers without credentials, keyed by client address — counts the
 * request against its rate limit and quota. Over either: 429 with `Retry-After`, flag
 * `RL`. Every response on a limited route carries RateLimit / RateLimit-Policy and the
 * X-RateLimit-* headers: a refusal on its own outcome, an admitted call's answer through
 * `ctx.answerHeaders`, which `serveRequest` adds as it writes the head (no second copy of
 * the upstream's headers).
 */
import { ANONYMOUS_PLAN, type GatewayRoute, type PlanConfig } from '../../config/model.js';
import type { ApiEdge } from '../../edge/api-edge.js';
import type { LimitDecision, PlanLimits } from '../../edge/plan-limits.js';
import type { EntryContext } from '../entry-context.js';
import { errorOutcome } from '../error-outcome.js';
import type { Next, Outcome, Stage } from '../pipeline.js';

/** Builds the limit stage over the edge of the config in force and the mesh's counters. */
export function limitStage(
  edgeOf: () => ApiEdge,
  limits: PlanLimits,
  planOf: (consumer: string) => string | undefined = () => undefined,
): Stage<EntryContext> {
  return {
    name: 'limit',
    handle(ctx, next): Promise<Outcome> {
      const plans = edgeOf().config.plans;
      const consumer = ctx.consumer;
      // A runtime overlay (`meshdev plan set`) wins over the file's plan.
      const planName = consumer ? (planOf(consumer.name) ?? consumer.plan) : ANONYMOUS_PLAN;
      const plan = planName === undefined ? undefined : plans[planName];
      // No plan and no route limit: nothing to count, no async frame.
      if (!plan && !ctx.route?.rateLimit) return next();
      return count(ctx, next, limits, plan);
    },
  };
}

/** Counts the call against the route's limit and the plan; refuses it when over either. */
function count(
  ctx: EntryContext,
  next: Next,
  limits: PlanLimits,
  plan: PlanConfig | undefined,
): Promise<Outcome> {
  const consumer = ctx.consumer;
  const key = consumer ? consumer.name : `anonymous:${ctx.req.socket.remoteAddress ?? '?'}`;
  if (!ctx.route?.rateLimit && plan) {
    // The usual case, the caller's plan alone: no list of decisions, no merge, no async frame.
    return limits.take(plan, key).then((decision) => {
      if (!decision.allowed) return refuse(ctx, plan, decision, plan);
      ctx.answerHeaders = decision.headers;
      return next();
    });
  }
  return countWithRoute(ctx, next, limits, plan, key);
}

/** The route's own limit first (`route <path>`), then the caller's plan. */
async function countWithRoute(
  ctx: EntryContext,
  next: Next,
  limits: PlanLimits,
  plan: PlanConfig | undefined,
  key: string,
): Promise<Outcome> {
  const decisions: Array<{ plan: PlanConfig; decision: LimitDecision }> = [];
  const route = routePlanOf(ctx.route!);
  decisions.push({ plan: route, decision: await limits.take(route, key) });
  if (plan && decisions[0]!.decision.allowed) {
    decisions.push({ plan, decision: await limits.take(plan, key) });
  }
  const refused = decisions.find((d) => !d.decision.allowed);
  const headers = mergeHeaders(decisions.map((d) => d.decision.headers));
  if (refused) return withHeaders(refuse(ctx, refused.plan, refused.decision, plan), headers);
  ctx.answerHeaders = headers;
  return next();
}

/** A route's own limit as a plan, one per route object of the config in force. */
function routePlanOf(route: GatewayRoute): PlanConfig {
  let plan = routePlans.get(route);
  if (!plan) {
    const limit = route.rateLimit!;
    plan = {
      name: `route ${route.path}`,
      rateLimit: { requests: limit.requests, perMs: limit.per },
    };
    routePlans.set(route, plan);
  }
  return plan;
}

const routePlans = new WeakMap<GatewayRoute, PlanConfig>();

/** The 429 for a call over `limited` (the route's limit, or `plan`, the caller's own). */
function refuse(
  ctx: EntryContext,
  limited: PlanConfig,
  decision: LimitDecision,
  plan: PlanConfig | undefined,
): Outcome {
  ctx.flags.add('RL');
  const consumer = ctx.consumer;
  const quota = decision.refusedBy === 'quota';
  const who = consumer ? `consumer ${consumer.name}` : 'this client';
  const outcome = errorOutcome(quota ? 'quota_exceeded' : 'rate_limited', {
    service: 'gateway',
    caller: consumer?.name,
    detail: quota
      ? `${who} used its ${limited.name} quota of ${limited.quota!.requests} requests; it renews in ${decision.retryAfterS}s`
      : `${who} is over ${limited === plan ? 'its' : 'the'} ${limited.name} rate limit of ${limited.rateLimit!.requests} requests; retry in ${decision.retryAfterS}s`,
  });
  return withHeaders(outcome, decision.headers);
}

/** Several decisions' headers as one set: policies listed together, the tightest X-RateLimit. */
function mergeHeaders(all: Array<Record<string, string>>): Record<string, string> {
  if (all.length === 1) return all[0]!;
  const out: Record<string, string> = {};
  for (const headers of all) {
    for (const [name, value] of Object.entries(headers)) {
      if (name === 'ratelimit' || name === 'ratelimit-policy') {
        out[name] = out[name] ? `${out[name]}, ${value}` : value;
      } else if (name === 'x-ratelimit-remaining' && out[name] !== undefined) {
        if (Number(value) < Number(out[name])) {
          out[name] = value;
          out['x-ratelimit-limit'] = headers['x-ratelimit-limit'] ?? out['x-ratelimit-limit']!;
          out['x-ratelimit-reset'] = headers['x-ratelimit-reset'] ?? out['x-ratelimit-reset']!;
        }
      } else if (!(name in out) || name === 'retry-after') {
        out[name] = value;
      }
    }
  }
  return out;
}

/** A refusal's headers: the limit stage's own answer, which the caller gets as it is. */
function withHeaders(outcome: Outcome, headers: Record<string, string>): Outcome {
  if (outcome.kind !== 'response') return outcome;
  Object.assign(outcome.headers, headers);
  return outcome;
}
