/**
 * Upstream stage (terminal): sends the attempt to the chosen instance's inbound
 * listener. No answer becomes 502 `UF` (connect failure, naming the port) or a reset.
 */
import { errorOutcome } from '../error-outcome.js';
import type { Forwarder } from '../forwarder.js';
import type { HopContext, Outcome, Stage } from '../pipeline.js';
import { bodyForAttempt } from '../request-body.js';

/** The header that tells the inbound listener who calls, on plaintext hops. */
export const CALLER_HEADER = 'x-meshdev-caller';

/** Builds the terminal stage around the mesh's forwarder. */
export function upstreamStage(forwarder: Forwarder): Stage<HopContext> {
  return {
    name: 'upstream',
    async handle(ctx): Promise<Outcome> {
      const target = ctx.service.target(ctx.version!);
      const context = { service: ctx.service.name, version: ctx.version };
      if (!target) {
        ctx.flags.add('UF');
        return errorOutcome(
          'upstream_unreachable',
          { ...context, detail: 'no listener for this instance' },
          { cause: 'connect-failure' },
        );
      }
      const result = await forwarder.forward(target.port, {
        method: ctx.method,
        path: ctx.path,
        headers: target.direct ? ctx.headers : { ...ctx.headers, [CALLER_HEADER]: ctx.caller },
        body: bodyForAttempt(ctx.body),
        signal: ctx.attemptSignal,
      });
      if (result.kind === 'response') {
        // The inbound listener could not reach the app: the same failure, one hop further.
        if (result.headers['x-meshdev-error'] === 'upstream_unreachable') {
          ctx.flags.add('UF');
          return { ...result, cause: 'connect-failure' };
        }
        return result;
      }
      if (result.kind !== 'failure') return result;
      if (result.cause === 'connect-failure') {
        ctx.flags.add('UF');
        return errorOutcome(
          'upstream_unreachable',
          { ...context, port: target.port, detail: result.detail },
          { cause: 'connect-failure' },
        );
      }
      return { kind: 'reset', injected: false };
    },
  };
}
