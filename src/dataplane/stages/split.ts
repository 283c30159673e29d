/**
 * Split stage: picks the version. A gateway-pinned version wins, then the route's `to`,
 * then its weighted `split` (the runtime overlay replaces file splits); the implicit
 * route spreads evenly over all versions, as Istio does without a VirtualService.
 */
import type { Random } from '../../lib/random.js';
import type { HopContext, Stage } from '../pipeline.js';

export const splitStage: Stage<HopContext> = {
  name: 'split',
  handle(ctx, next) {
    const { service } = ctx;
    const route = ctx.routeIndex >= 0 ? service.routes[ctx.routeIndex] : undefined;
    ctx.version =
      ctx.pinnedVersion ??
      route?.to ??
      pickWeighted(
        route?.split ??
          service.splitOverride ??
          service.versions.map((version) => ({ version, weight: 1 })),
        ctx.random,
      );
    return next();
  },
};

/** Picks one entry with probability proportional to its weight. */
export function pickWeighted(
  weights: ReadonlyArray<{ version: string; weight: number }>,
  random: Random,
): string {
  const total = weights.reduce((sum, entry) => sum + entry.weight, 0);
  let point = random() * total;
  for (const entry of weights) {
    point -= entry.weight;
    if (point < 0) return entry.version;
  }
  // Rounding can leave point at 0 after the last entry: take the last non-zero weight.
  return [...weights].reverse().find((entry) => entry.weight > 0)?.version ?? weights[0]!.version;
}
