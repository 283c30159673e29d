/** Delay (`DI`): waits a fixed time, or one drawn from a log-normal p50/p99 model, then goes on. */
import { formatDuration } from '../../config/units.js';
import { sampleLatency } from '../../lib/latency.js';
import type { FaultAction } from './action.js';

export const delayAction: FaultAction<'delay'> = {
  kind: 'delay',
  describe: (delay) =>
    `delay ${'fixedMs' in delay ? formatDuration(delay.fixedMs) : `p50 ${delay.p50Ms}ms p99 ${delay.p99Ms}ms`} ${delay.percent}%`,
  async before(delay, ctx) {
    ctx.flags.add('DI');
    await ctx.clock.sleep(sampleLatency(delay, ctx.random), ctx.attemptSignal);
    return undefined;
  },
};
