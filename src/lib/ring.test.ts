import { describe, expect, it } from 'vitest';
import { Ring } from './ring.js';

describe('Ring', () => {
  it('keeps the last `capacity` items, oldest or newest first, across the wrap', () => {
    const ring = new Ring<number>(3);
    expect(ring.oldestFirst()).toEqual([]);
    ring.push(1);
    ring.push(2);
    expect(ring.size).toBe(2);
    expect(ring.oldestFirst()).toEqual([1, 2]);
    expect(ring.newestFirst()).toEqual([2, 1]);
    for (const n of [3, 4, 5]) ring.push(n);
    expect(ring.size).toBe(3);
    expect(ring.oldestFirst()).toEqual([3, 4, 5]);
    expect(ring.newestFirst()).toEqual([5, 4, 3]);
    expect(ring.newestFirst(2)).toEqual([5, 4]);
    expect(ring.newestFirst(10)).toEqual([5, 4, 3]);
  });
});
