import { describe, expect, it } from 'vitest';
import { seededRandom } from '../lib/random.js';
import { ByteRing } from './byte-ring.js';

describe('ByteRing', () => {
  it('hands out regions in order, wraps round, and refuses what does not fit', () => {
    const ring = new ByteRing(100);
    expect(ring.reserve(40)).toBe(0);
    expect(ring.reserve(40)).toBe(40);
    expect(ring.reserve(30)).toBeUndefined(); // 20 left at the end, nothing before 0
    ring.release(); // [0, 40) free
    expect(ring.reserve(30)).toBe(0); // wraps: 20 at the end are too few
    expect(ring.reserve(10)).toBe(30);
    expect(ring.reserve(1)).toBeUndefined(); // head met the oldest region (40)
    ring.release(); // [40, 80) free; oldest is now at 0
    expect(ring.reserve(60)).toBe(40);
    expect(ring.reserve(0)).toBeUndefined();
    expect(ring.reserve(101)).toBeUndefined();
    ring.clear();
    expect(ring.used).toBe(0);
    expect(ring.reserve(100)).toBe(0);
  });

  it('never gives out bytes still in use (seeded random reserves and releases)', () => {
    const random = seededRandom(7);
    const ring = new ByteRing(1000);
    const live: Array<[number, number]> = [];
    let refused = 0;
    for (let step = 0; step < 20_000; step++) {
      if (live.length > 0 && random() < 0.45) {
        ring.release();
        live.shift();
        continue;
      }
      const length = 1 + Math.floor(random() * 300);
      const start = ring.reserve(length);
      if (start === undefined) {
        refused++;
        // An empty ring always has room.
        expect(live.length).toBeGreaterThan(0);
        continue;
      }
      expect(start + length).toBeLessThanOrEqual(1000);
      for (const [s, e] of live) expect(start >= e || start + length <= s).toBe(true);
      live.push([start, start + length]);
      expect(ring.used).toBe(live.length);
    }
    expect(refused).toBeGreaterThan(0);
  });
});
