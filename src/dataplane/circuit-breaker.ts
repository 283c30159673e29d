/**
 * A circuit breaker per instance: `consecutiveErrors` failures open it for `openFor`;
 * then one probe is let through (half-open): success closes it, failure opens it again.
 * `maxConcurrent` caps calls in flight; overflow is answered at once.
 */
import type { CircuitBreakerPolicy } from '../config/model.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

/** Why a call was refused. */
export type BreakerRefusal = 'open' | 'overflow';

export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  private opened = false;
  /** Calls in flight. */
  active = 0;

  constructor(
    private readonly policy: CircuitBreakerPolicy,
    private readonly now: () => number = Date.now,
  ) {}

  /** The state as a user would see it now. */
  state(): BreakerState {
    if (!this.opened) return 'closed';
    return this.now() - this.openedAt >= this.policy.openForMs ? 'half-open' : 'open';
  }

  /** Takes a slot for one call, or says why not. Every success must be `release`d. */
  acquire(): BreakerRefusal | null {
    const state = this.state();
    if (state === 'open') return 'open';
    if (state === 'half-open') {
      if (this.probing) return 'open';
      this.probing = true;
    }
    if (this.policy.maxConcurrent !== undefined && this.active >= this.policy.maxConcurrent) {
      if (state === 'half-open') this.probing = false;
      return 'overflow';
    }
    this.active++;
    return null;
  }

  /** Ends a call taken with `acquire`, recording whether it succeeded. */
  release(success: boolean): void {
    this.active--;
    if (success) {
      this.failures = 0;
      this.opened = false;
      this.probing = false;
      return;
    }
    this.failures++;
    if (this.probing || this.failures >= this.policy.consecutiveErrors) {
      this.opened = true;
      this.openedAt = this.now();
      this.probing = false;
    }
  }
}
