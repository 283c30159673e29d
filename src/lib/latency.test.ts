import { describe, expect, it } from 'vitest';
import { seededRandom } from './random.js';
import { sampleLatency } from './latency.js';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

describe('sampleLatency', () => {
  it('fits a log-normal to p50 and p99: 5,000 seeded samples land within 10%', () => {
    const random = seededRandom(5);
    const samples = Array.from({ length: 5000 }, () =>
      sampleLatency({ p50Ms: 20, p99Ms: 80 }, random),
    ).sort((a, b) => a - b);
    expect(Math.abs(percentile(samples, 50) / 20 - 1)).toBeLessThan(0.1);
    expect(Math.abs(percentile(samples, 99) / 80 - 1)).toBeLessThan(0.1);
    expect(samples[0]).toBeGreaterThan(0);
  });

  it('a fixed latency is exact', () => {
    expect(sampleLatency({ fixedMs: 250 }, seededRandom(1))).toBe(250);
  });

  it('the same seed gives the same samples', () => {
    const a = seededRandom(9);
    const b = seededRandom(9);
    for (let i = 0; i < 10; i++)
      expect(sampleLatency({ p50Ms: 5, p99Ms: 50 }, a)).toBe(
        sampleLatency({ p50Ms: 5, p99Ms: 50 }, b),
      );
  });
});
