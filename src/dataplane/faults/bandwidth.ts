/** Bandwidth (`BW`): the response body passes at most at the configured rate. */
import { pipeline } from 'node:stream';
import type { FaultAction } from './action.js';
import { throttle } from './throttle.js';

export const bandwidthAction: FaultAction<'bandwidth'> = {
  kind: 'bandwidth',
  describe: (bandwidth) => `bandwidth ${bandwidth.bytesPerSecond}B/s ${bandwidth.percent}%`,
  after(bandwidth, outcome, ctx) {
    if (outcome.kind !== 'response' || !outcome.body) return outcome;
    ctx.flags.add('BW');
    const limited = throttle(bandwidth.bytesPerSecond);
    pipeline(outcome.body, limited, () => {});
    return { ...outcome, body: limited };
  },
};
