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
  private readonly byPlan = new WeakMap<PlanConfig, PlanFields>();

  constructor(
    private readonly quotas: QuotaStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one request of `key` (a consumer, or an anonymous client) under `plan`. */
  async take(plan: PlanConfig, key: string): Promise<LimitDecision> {
    const fields = this.fieldsOf(plan);
    let quotaState: string | undefined;
    if (plan.quota) {
      const quota = plan.quota;
      const quotaKey = `${plan.name}|${key}`;
      const counter = this.quotas.take(quotaKey, quota.perMs, this.now());
      const resetS = Math.max(
        0,
        Math.ceil((counter.windowStart + quota.perMs - this.now()) / 1000),
      );
      quotaState = `${fields.quotaName};r=${Math.max(0, quota.requests - counter.used)};t=${resetS}`;
      if (counter.used > quota.requests) {
        this.quotas.untake(quotaKey);
        const headers: Record<string, string> = {
          'ratelimit-policy': fields.quotaPolicy!,
          ratelimit: quotaState,
          'retry-after': String(resetS),
        };
        return { allowed: false, refusedBy: 'quota', retryAfterS: resetS, headers };
      }
    }
    const window = fields.window;
    if (!window) {
      // A quota alone: its RateLimit fields only (a plan of neither: none).
      if (quotaState === undefined) return { allowed: true, headers: {} };
      return {
        allowed: true,
        headers: { 'ratelimit-policy': fields.policy, ratelimit: quotaState },
      };
    }
    // The spike arrest first: a request it refuses does not count against the window.
    const burst = window.burst && (await consume(window.burst, key));
    const { result, allowed } = burst && !burst.allowed ? burst : await consume(window.window, key);
    const resetS = Math.max(0, Math.ceil(result.msBeforeNext / 1000));
    const rateState = `${window.quotedName};r=${result.remainingPoints};t=${resetS}`;
    // One object literal, its fields in one order: every decision's headers share a shape.
    const headers: Record<string, string> = {
      'x-ratelimit-limit': window.limit,
      'x-ratelimit-remaining': String(result.remainingPoints),
      'x-ratelimit-reset': String(Math.ceil(this.now() / 1000) + resetS),
      'ratelimit-policy': fields.policy,
      ratelimit: quotaState === undefined ? rateState : `${rateState}, ${quotaState}`,
    };
    if (allowed) return { allowed: true, headers };
    if (plan.quota) this.quotas.untake(`${plan.name}|${key}`);
    const retryAfterS = Math.max(1, resetS);
    headers['retry-after'] = String(retryAfterS);
    return { allowed: false, refusedBy: 'rateLimit', retryAfterS, headers };
  }

  /** `plan`'s limiters and the header values that never change, made on its first call. */
  private fieldsOf(plan: PlanConfig): PlanFields {
    let fields = this.byPlan.get(plan);
    if (!fields) {
      const limit = plan.rateLimit;
      const quota = plan.quota;
      const ratePolicy = limit && `"${plan.name}";q=${limit.requests};w=${seconds(limit)}`;
      const quotaPolicy = quota && `"${plan.name}-quota";q=${quota.requests};w=${seconds(quota)}`;
      fields = {
        window: limit && {
          window: this.limiter(plan.name, limit),
          burst:
            limit.burst === undefined
              ? undefined
              : this.limiter(`${plan.name}-burst`, { requests: limit.burst, perMs: 1000 }),
          quotedName: `"${plan.name}"`,
          limit: String(limit.requests),
        },
        policy: [ratePolicy, quotaPolicy].filter(Boolean).join(', '),
        quotaName: `"${plan.name}-quota"`,
        quotaPolicy,
      };
      this.byPlan.set(plan, fields);
    }
    return fields;
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
  /** Its X-RateLimit-Limit. */
  limit: string;
}

/** What a plan's decisions share: its window, and its RateLimit-Policy value. */
interface PlanFields {
  window?: PlanWindow;
  /** RateLimit-Policy: the rate limit's item, then the quota's. */
  policy: string;
  /** `"trial-quota"`: the quota as the RateLimit header names it. */
  quotaName: string;
  /** The quota's RateLimit-Policy item alone (a call refused by the quota). */
  quotaPolicy?: string;
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
