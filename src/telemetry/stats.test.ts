import { describe, expect, it } from 'vitest';
import type { CallRecord } from './call-record.js';
import { MeshStats } from './stats.js';

function call(overrides: Partial<CallRecord> = {}): CallRecord {
  return {
    time: 0,
    traceId: 't',
    requestId: 'r',
    caller: 'gateway',
    service: 'api',
    version: 'default',
    method: 'GET',
    path: '/x',
    route: '/x',
    status: 200,
    durationMs: 10,
    bytesIn: 0,
    bytesOut: 0,
    flags: [],
    attempts: 1,
    security: 'none',
    ...overrides,
  };
}

describe('MeshStats', () => {
  it('percentiles of a known distribution: 1..1000 ms', () => {
    let now = 100_000;
    const stats = new MeshStats({ now: () => now });
    for (let ms = 1; ms <= 1000; ms++) stats.record(call({ durationMs: ms }));
    now += 1000;
    const { total } = stats.snapshot();
    expect(total.requests).toBe(1000);
    // HDR with 2 significant digits: within 1%.
    expect(total.p50).toBeGreaterThanOrEqual(495);
    expect(total.p50).toBeLessThanOrEqual(505);
    expect(total.p90).toBeGreaterThanOrEqual(891);
    expect(total.p90).toBeLessThanOrEqual(909);
    expect(total.p99).toBeGreaterThanOrEqual(980);
    expect(total.p99).toBeLessThanOrEqual(1000);
  });

  it('keeps rows per service, instance, edge, route and status class, with error % and flags', () => {
    let now = 100_000;
    const stats = new MeshStats({ now: () => now });
    stats.record(
      call({ caller: 'orders', service: 'payments', version: 'v2', status: 503, flags: ['FI'] }),
    );
    stats.record(call({ caller: 'orders', service: 'payments', version: 'v1', status: 201 }));
    stats.record(call({ status: 0, flags: ['FR'] }));
    now += 2000;
    const snapshot = stats.snapshot();
    expect(snapshot.by.instance.map((row) => row.key).sort()).toEqual([
      'api',
      'payments@v1',
      'payments@v2',
    ]);
    expect(snapshot.by.edge.find((row) => row.key === 'orders→payments')).toMatchObject({
      requests: 2,
      errorPct: 50,
      flags: { FI: 1 },
    });
    expect(snapshot.by.status.map((row) => row.key).sort()).toEqual(['2xx', '5xx', 'reset']);
    expect(snapshot.by.route.map((row) => row.key)).toContain('payments GET /x');
    expect(snapshot.total.errorPct).toBeCloseTo(66.67, 1);
  });

  it('forgets calls older than the window and reports req/s over it', () => {
    let now = 1_000_000;
    const stats = new MeshStats({ now: () => now, windowMs: 60_000, buckets: 12 });
    // Two minutes at 10 req/s: the window holds about the last minute of it.
    for (let i = 0; i < 1200; i++) {
      now += 100;
      stats.record(call());
    }
    const rps = stats.snapshot().total.rps;
    expect(rps).toBeGreaterThan(9.5);
    expect(rps).toBeLessThan(10.5);
    now += 61_000;
    expect(stats.snapshot().total.requests).toBe(0);
  });

  it('stays bounded: 100,000 records keep 1,000 recent calls and capped keys', () => {
    const stats = new MeshStats({ maxKeys: 50 });
    for (let i = 0; i < 100_000; i++)
      // Not id-like (ids are grouped as :id): every route is a key of its own.
      stats.record(call({ route: `/items/sku-${i}`, path: `/items/sku-${i}` }));
    expect(stats.recentSize).toBe(1000);
    expect(stats.recent(1)[0]!.path).toBe('/items/sku-99999');
    const routes = stats.snapshot().by.route;
    expect(routes.length).toBe(50);
    expect(routes.find((row) => row.key === '(other)')!.requests).toBe(100_000 - 49);
  });
});
