/**
 * Rate limits and quotas of plans. Rate limits use rate-limiter-flexible's in-memory
 * fixed windows (one limiter per plan and window); quotas use `QuotaStore`, which
 * persists. Every decision carries the IETF RateLimit / RateLimit-Policy fields and the
 * X-RateLimit-* headers clients written against Kong or Tyk read.
 */
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { PlanConfig, WindowLimit } from '../config/model.js';
import type { QuotaStore } from './quota-store.js';

/** What a plan says about one more request. */
export interface LimitDecision {
  allowed: boolean;
  /** Why it was refused. */
  refusedBy?: 'rateLimit' | 'quota';
  /** Seconds until a refused caller may try again. */
  retryAfterS?: number;
  /** Headers for the response, allowed or not. */
  headers: Record<string, string>;
}

/** The limits of every plan, with their counters. */
export class PlanLimits {
  /** Limiters by plan, window and size: a new config with the same limits keeps its counts. */
  private readonly limiters = new Map<string, RateLimiterMemory>();
  /** The same limiters by the config's own plan objects (no key string built per call). */
  private readonly byPlan = new WeakMap<PlanConfig, PlanWindow>();

  constructor(
    private readonly quotas: QuotaStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one request of `key` (a consumer, or an anonymous client) under `plan`. */
  async take(plan: PlanConfig, key: string): Promise<LimitDecision> {
    const policies: string[] = [];
    const states: string[] = [];
    const headers: Record<string, string> = {};
    let decision: LimitDecision | undefined;

    if (plan.quota) {
      const quota = plan.quota;
      const counter = this.quotas.take(`${plan.name}|${key}`, quota.perMs, this.now());
      const resetS = Math.max(
        0,
        Math.ceil((counter.windowStart + quota.perMs - this.now()) / 1000),
      );
      const remaining = Math.max(0, quota.requests - counter.used);
      policies.push(`"${plan.name}-quota";q=${quota.requests};w=${seconds(quota)}`);
      states.push(`"${plan.name}-quota";r=${remaining};t=${resetS}`);
      if (counter.used > quota.requests) {
        this.quotas.untake(`${plan.name}|${key}`);
        decision = { allowed: false, refusedBy: 'quota', retryAfterS: resetS, headers };
      }
    }
    if (plan.rateLimit && !decision) {
      const limits = this.windowOf(plan, plan.rateLimit);
      // The spike arrest first: a request it refuses does not count against the window.
      const burst = limits.burst && (await consume(limits.burst, key));
      const { result, allowed } =
        burst && !burst.allowed ? burst : await consume(limits.window, key);
      const resetS = Math.max(0, Math.ceil(result.msBeforeNext / 1000));
      policies.unshift(limits.policy);
      states.unshift(`${limits.quotedName};r=${result.remainingPoints};t=${resetS}`);
      headers['x-ratelimit-limit'] = limits.limit;
      headers['x-ratelimit-remaining'] = String(result.remainingPoints);
      headers['x-ratelimit-reset'] = String(Math.ceil(this.now() / 1000) + resetS);
      if (!allowed) {
        if (plan.quota) this.quotas.untake(`${plan.name}|${key}`);
        decision = {
          allowed: false,
          refusedBy: 'rateLimit',
          retryAfterS: Math.max(1, resetS),
          headers,
        };
      }
    }
    if (policies.length > 0) {
      headers['ratelimit-policy'] = policies.join(', ');
      headers.ratelimit = states.join(', ');
    }
    if (decision?.retryAfterS !== undefined) headers['retry-after'] = String(decision.retryAfterS);
    return decision ?? { allowed: true, headers };
  }

  /** `plan`'s rate limit `limit`: its limiters and the header values that never change. */
  private windowOf(plan: PlanConfig, limit: WindowLimit): PlanWindow {
    let window = this.byPlan.get(plan);
    if (!window) {
      window = {
        window: this.limiter(plan.name, limit),
        burst:
          limit.burst === undefined
            ? undefined
            : this.limiter(`${plan.name}-burst`, { requests: limit.burst, perMs: 1000 }),
        quotedName: `"${plan.name}"`,
        policy: `"${plan.name}";q=${limit.requests};w=${seconds(limit)}`,
        limit: String(limit.requests),
      };
      this.byPlan.set(plan, window);
    }
    return window;
  }

  private limiter(plan: string, limit: WindowLimit): RateLimiterMemory {
    const id = `${plan}|${limit.requests}|${limit.perMs}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      limiter = new RateLimiterMemory({
        keyPrefix: id,
        points: limit.requests,
        duration: seconds(limit),
      });
      this.limiters.set(id, limiter);
    }
    return limiter;
  }
}

/** A plan's rate limit: its limiters, and its header values built once. */
interface PlanWindow {
  window: RateLimiterMemory;
  /** The spike arrest (`burst`), per second. */
  burst?: RateLimiterMemory;
  /** `"gold"`: the plan as the RateLimit header names it. */
  quotedName: string;
  /** Its RateLimit-Policy item. */
  policy: string;
  /** Its X-RateLimit-Limit. */
  limit: string;
}

/** One request against `limiter`: its state, allowed or not. */
function consume(
  limiter: RateLimiterMemory,
  key: string,
): Promise<{ result: RateLimiterRes; allowed: boolean }> {
  // Reactions on the limiter's own promise (an async function would add one more per call).
  return limiter.consume(key).then(
    (result) => ({ result, allowed: true }),
    (refused: unknown) => {
      if (!(refused instanceof RateLimiterRes)) throw refused;
      return { result: refused, allowed: false };
    },
  );
}

function seconds(limit: WindowLimit): number {
  return Math.max(1, Math.round(limit.perMs / 1000));
}
