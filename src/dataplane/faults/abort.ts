/** Abort (`FI`): answers with the configured status in place of the upstream. */
import { errorOutcome } from '../error-outcome.js';
import type { FaultAction } from './action.js';

export const abortAction: FaultAction<'abort'> = {
  kind: 'abort',
  describe: (abort) => `abort ${abort.status} ${abort.percent}%`,
  before(abort, ctx) {
    ctx.flags.add('FI');
    return Promise.resolve(
      errorOutcome(
        'fault_abort',
        { service: ctx.service.name, version: ctx.version },
        { status: abort.status },
      ),
    );
  },
};
