/** Reset (`FR`): the caller's connection is reset before any response. */
import type { FaultAction } from './action.js';

export const resetAction: FaultAction<'reset'> = {
  kind: 'reset',
  describe: (reset) => `reset ${reset.percent}%`,
  before(_reset, ctx) {
    ctx.flags.add('FR');
    return Promise.resolve({ kind: 'reset', injected: true });
  },
};
