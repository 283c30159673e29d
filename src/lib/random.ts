/**
 * Seeded randomness (mulberry32) so fault and split decisions are reproducible with
 * `mesh.seed`, and tests are exact.
 */

/** A function returning floats in [0, 1). */
export type Random = () => number;

/** A fast deterministic generator for a 32-bit seed. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The mesh's generator: seeded when a seed is configured, else Math.random. */
export function meshRandom(seed: number | undefined): Random {
  return seed === undefined ? Math.random : seededRandom(seed);
}
