import { describe, expect, it } from 'vitest';
import type { CallRecord } from './call-record.js';
import { USAGE_RING, UsageLedger } from './usage-ledger.js';

const call = (over: Partial<CallRecord>): CallRecord => ({
  time: 0,
  traceId: 't',
  requestId: 'r',
  caller: 'gateway',
  service: 'orders',
  version: 'default',
  method: 'GET',
  path: '/orders/1',
  route: '/orders*',
  status: 200,
  durationMs: 1,
  bytesIn: 0,
  bytesOut: 0,
  flags: [],
  attempts: 1,
  security: 'none',
  ...over,
});

describe('UsageLedger', () => {
  it('counts by consumer: classes, limited, req/s since the first call, top endpoints, --since', () => {
    let now = 100_000;
    const ledger = new UsageLedger(() => now);
    ledger.record(call({ time: 90_000, consumer: 'alice', path: '/orders/1' }));
    ledger.record(call({ time: 95_000, consumer: 'alice', path: '/orders/2' }));
    ledger.record(call({ time: 96_000, consumer: 'alice', status: 429, flags: ['RL'] }));
    ledger.record(
      call({
        time: 97_000,
        consumer: 'bob',
        status: 503,
        operation: 'POST /orders',
        method: 'POST',
      }),
    );
    ledger.record(call({ time: 98_000 })); // no consumer: not API usage
    const [alice, bob] = ledger.byConsumer();
    expect(alice).toMatchObject({
      consumer: 'alice',
      calls: 3,
      ok: 2,
      clientErrors: 1,
      serverErrors: 0,
      limited: 1,
      lastSeen: 96_000,
      topEndpoints: [{ endpoint: 'orders GET /orders/:id', calls: 3 }],
    });
    // 3 calls over the 10 s since the first one.
    expect(alice!.rps).toBe(0.3);
    expect(bob).toMatchObject({
      calls: 1,
      serverErrors: 1,
      topEndpoints: [{ endpoint: 'orders POST /orders', calls: 1 }],
    });
    now = 100_000;
    expect(ledger.byConsumer(4_000).map((row) => [row.consumer, row.calls])).toEqual([
      ['alice', 1],
      ['bob', 1],
    ]);
  });

  it('keeps the last USAGE_RING calls once full, oldest dropped first, in time order', () => {
    const now = 1_000_000;
    const ledger = new UsageLedger(() => now);
    // alice's calls first, then bob's: 500 more than the ring holds in all.
    const total = USAGE_RING + 500;
    for (let i = 0; i < total; i++) {
      const consumer = i < 1000 ? 'alice' : 'bob';
      ledger.record(call({ time: now - 100_000 + i, consumer }));
    }
    const rows = ledger.byConsumer();
    expect(rows.map((row) => [row.consumer, row.calls])).toEqual([
      ['bob', total - 1000],
      ['alice', 500], // her first 500 calls were dropped
    ]);
    expect(rows.find((row) => row.consumer === 'bob')!.lastSeen).toBe(now - 100_000 + total - 1);
    // The newest 10 calls (one ms apart), found across the ring's wrap.
    expect(ledger.byConsumer(100_000 - (total - 10))[0]).toMatchObject({
      consumer: 'bob',
      calls: 10,
    });
  });
});
