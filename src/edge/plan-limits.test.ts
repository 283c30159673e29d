import { afterEach, describe, expect, it, vi } from 'vitest';
import { KeyRing } from './key-ring.js';
import { PlanLimits } from './plan-limits.js';
import { QuotaStore } from './quota-store.js';

afterEach(() => vi.useRealTimers());

describe('PlanLimits (fake clock)', () => {
  it('allows N per window, refuses N+1 with exact headers, and refills when the window ends', async () => {
    vi.useFakeTimers({ now: 1_700_000_000_000 });
    const limits = new PlanLimits(new QuotaStore());
    const plan = { name: 'free', rateLimit: { requests: 2, perMs: 10_000 } };
    const first = await limits.take(plan, 'alice');
    expect(first).toEqual({
      allowed: true,
      headers: {
        'x-ratelimit-limit': '2',
        'x-ratelimit-remaining': '1',
        'x-ratelimit-reset': String(1_700_000_000 + 10),
        'ratelimit-policy': '"free";q=2;w=10',
        ratelimit: '"free";r=1;t=10',
      },
    });
    vi.advanceTimersByTime(4_000);
    expect((await limits.take(plan, 'alice')).headers.ratelimit).toBe('"free";r=0;t=6');
    const refused = await limits.take(plan, 'alice');
    expect(refused).toMatchObject({ allowed: false, refusedBy: 'rateLimit', retryAfterS: 6 });
    expect(refused.headers['retry-after']).toBe('6');
    expect((await limits.take(plan, 'bob')).allowed).toBe(true);
    vi.advanceTimersByTime(6_001);
    const refilled = await limits.take(plan, 'alice');
    expect(refilled.allowed).toBe(true);
    expect(refilled.headers.ratelimit).toBe('"free";r=1;t=10');
  });

  it('a burst allows at most that many in any second, on top of the window', async () => {
    vi.useFakeTimers({ now: 5_000_000 });
    const limits = new PlanLimits(new QuotaStore());
    const plan = { name: 'spiky', rateLimit: { requests: 100, perMs: 60_000, burst: 2 } };
    expect((await limits.take(plan, 'dan')).allowed).toBe(true);
    expect((await limits.take(plan, 'dan')).allowed).toBe(true);
    const third = await limits.take(plan, 'dan');
    expect(third).toMatchObject({ allowed: false, refusedBy: 'rateLimit', retryAfterS: 1 });
    vi.advanceTimersByTime(1_000);
    const next = await limits.take(plan, 'dan');
    expect(next.allowed).toBe(true);
    // The refused one did not count against the minute: 3 of 100 used.
    expect(next.headers.ratelimit).toBe('"spiky";r=97;t=59');
  });

  it('counts a quota over its window; refused calls do not use it', async () => {
    vi.useFakeTimers({ now: 0 });
    const quotas = new QuotaStore();
    const limits = new PlanLimits(quotas);
    const plan = { name: 'trial', quota: { requests: 2, perMs: 86_400_000 } };
    expect((await limits.take(plan, 'carol')).headers.ratelimit).toBe('"trial-quota";r=1;t=86400');
    expect((await limits.take(plan, 'carol')).allowed).toBe(true);
    const over = await limits.take(plan, 'carol');
    expect(over).toMatchObject({ allowed: false, refusedBy: 'quota', retryAfterS: 86_400 });
    expect(quotas.get('trial|carol')).toEqual({ windowStart: 0, used: 2 });
    vi.advanceTimersByTime(86_400_000);
    expect((await limits.take(plan, 'carol')).allowed).toBe(true);
  });
});

describe('KeyRing', () => {
  it('finds the owner of a key, and nobody for a near miss or a prefix', () => {
    const ring = new KeyRing([
      {
        name: 'alice',
        keys: ['alice-key-0001', 'alice-key-0002'],
        jwtSubject: 'alice',
        groups: [],
      },
    ]);
    expect(ring.find('alice-key-0002')).toEqual({ consumer: 'alice', credential: 'alice-key-2' });
    expect(ring.find('alice-key-0003')).toBeUndefined();
    expect(ring.find('alice-key-000')).toBeUndefined();
    expect(ring.find('')).toBeUndefined();
  });
});
