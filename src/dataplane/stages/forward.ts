/**
 * Forward stage (inbound, terminal): streams the request to the instance's own port and
 * the answer back. A dead instance answers 502 `UF` naming its port; an instance that
 * resets the connection resets the caller's too, so its retry policy sees a reset; an
 * instance answering broken HTTP is answered 502 `upstream_protocol_error`, naming what.
 */
import type { EntryContext } from '../entry-context.js';
import { errorOutcome } from '../error-outcome.js';
import type { Forwarder } from '../forwarder.js';
import type { Outcome, Stage } from '../pipeline.js';

/** Where the instance really listens: its configured port, or a simulated server's. */
export type InstancePort = () => number | undefined;

/** What the forward stage needs from its listener. */
export interface ForwardSettings {
  service: string;
  version: string;
  appPort: InstancePort;
  forwarder: Forwarder;
}

/** Who an error names: the instance and its caller. */
function contextOf(settings: ForwardSettings, ctx: EntryContext) {
  return { service: settings.service, version: settings.version, caller: ctx.caller };
}

/** Builds the forward stage of one inbound listener. */
export function forwardStage(settings: ForwardSettings): Stage<EntryContext> {
  return {
    name: 'forward',
    handle(ctx): Promise<Outcome> {
      const { req } = ctx;
      const port = settings.appPort();
      if (port === undefined) {
        return Promise.resolve(
          errorOutcome('upstream_unreachable', {
            ...contextOf(settings, ctx),
            detail: 'instance has no port',
          }),
        );
      }
      const hasBody =
        req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0';
      const chunked = req.headers['transfer-encoding'] !== undefined;
      // The forward's own promise, its result answered as it settles: no async frame, no
      // reaction of ours (each would be one more promise a call).
      return settings.forwarder.forward(
        port,
        {
          method: ctx.method,
          path: ctx.path,
          headers: ctx.headers,
          body: hasBody || chunked ? req : undefined,
          signal: ctx.clientSignal,
        },
        (result): Outcome => {
          if (result.kind !== 'failure') return result;
          if (result.cause === 'reset') return { kind: 'reset', injected: false };
          // Said in words, not as a reset: the caller's side names what the app sent.
          if (result.cause === 'protocol-error') {
            return errorOutcome('upstream_protocol_error', {
              ...contextOf(settings, ctx),
              detail: result.detail,
            });
          }
          return errorOutcome('upstream_unreachable', {
            ...contextOf(settings, ctx),
            port,
            detail: result.detail,
          });
        },
      );
    },
  };
}
