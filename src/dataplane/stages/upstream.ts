/**
 * Upstream stage (terminal): sends the attempt to the chosen instance — over mTLS to its
 * inbound listener with the caller's certificate, or (mtls off) straight to its port
 * (the `authorize` stage has checked `allow` then). Nothing tells the callee who calls
 * but the certificate. No answer becomes 502 `UF` (naming the port) or a reset.
 */
import { errorOutcome } from '../error-outcome.js';
import type { ForwardFailure, Forwarder, HopTls } from '../forwarder.js';
import { CONSUMER_REPORT_HEADER } from './authenticate.js';
import type { FailureCause, HopContext, Outcome, Stage } from '../pipeline.js';
import type { ResponseFlag } from '../../telemetry/call-record.js';
import { bodyForAttempt } from '../request-body.js';

/** mTLS for a hop from `caller` to `service`, or undefined for plaintext. */
export type HopTlsSource = (caller: string, service: string) => HopTls | undefined;

/** The principal a caller acts as: generated load enters through the gateway. */
export function principalOf(caller: string): string {
  return caller === 'load' ? 'gateway' : caller;
}

/** Builds the terminal stage around the mesh's forwarder. */
export function upstreamStage(
  forwarder: Forwarder,
  tlsFor: HopTlsSource = () => undefined,
): Stage<HopContext> {
  return {
    name: 'upstream',
    handle(ctx): Promise<Outcome> {
      const target = ctx.service.target(ctx.version!);
      if (!target) {
        ctx.flags.add('UF');
        return Promise.resolve(
          errorOutcome(
            'upstream_unreachable',
            { ...errorContext(ctx), detail: 'no listener for this instance' },
            { cause: 'connect-failure' },
          ),
        );
      }
      const health = ctx.service.health(ctx.version!);
      if (health !== undefined && health !== 'up') {
        ctx.flags.add('UH');
        return Promise.resolve(
          errorOutcome(
            'unhealthy',
            { ...errorContext(ctx), detail: health },
            { cause: 'connect-failure' },
          ),
        );
      }
      const tls = target.direct ? undefined : tlsFor(ctx.caller, ctx.service.name);
      ctx.security = tls ? 'mutual_tls' : 'none';
      // The forward's own promise, its result answered as it settles: no async frame, no
      // reaction of ours (each would be one more promise a call).
      const port = target.port;
      return forwarder.forward(
        port,
        {
          method: ctx.method,
          path: ctx.path,
          headers: ctx.headers,
          body: bodyForAttempt(ctx.body),
          signal: ctx.attemptSignal,
        },
        (result) => answerOf(ctx, result, port),
        tls,
      );
    },
  };
}

/**
 * What an inbound listener's own error answer stands for, one hop further: it could not
 * reach the app (`UF`, a connect failure) or the app answered broken HTTP (`UPE`, retried
 * as a reset). Undefined for any other answer.
 */
export function inboundFailure(
  error: string | string[] | undefined,
): { flag: ResponseFlag; cause: FailureCause } | undefined {
  if (error === 'upstream_unreachable') return UNREACHABLE;
  if (error === 'upstream_protocol_error') return PROTOCOL_ERROR;
  return undefined;
}

const UNREACHABLE = { flag: 'UF', cause: 'connect-failure' } as const;
const PROTOCOL_ERROR = { flag: 'UPE', cause: 'reset' } as const;

/** Who and what an error body names (built only when there is one). */
function errorContext(ctx: HopContext) {
  return { service: ctx.service.name, version: ctx.version, caller: principalOf(ctx.caller) };
}

/** What the stage answers for a forward's result. */
function answerOf(ctx: HopContext, result: Outcome | ForwardFailure, port: number): Outcome {
  if (result.kind === 'response') {
    const error = result.headers['x-meshdev-error'];
    const failed = inboundFailure(error);
    if (failed) {
      ctx.flags.add(failed.flag);
      return { ...result, cause: failed.cause };
    }
    if (error === 'unauthorized' || error === 'unauthenticated' || error === 'consumer_forbidden') {
      ctx.flags.add('UAEX');
    }
    // The inbound side of a service with `auth` says which consumer it recognized.
    const consumer = result.headers[CONSUMER_REPORT_HEADER];
    if (typeof consumer === 'string') {
      ctx.consumer = consumer;
      delete result.headers[CONSUMER_REPORT_HEADER];
    }
    return result;
  }
  if (result.kind !== 'failure') return result;
  if (result.cause === 'connect-failure') {
    ctx.flags.add('UF');
    return errorOutcome(
      'upstream_unreachable',
      { ...errorContext(ctx), port, detail: result.detail },
      { cause: 'connect-failure' },
    );
  }
  if (result.cause === 'protocol-error') {
    ctx.flags.add('UPE');
    return errorOutcome(
      'upstream_protocol_error',
      { ...errorContext(ctx), detail: result.detail },
      { cause: 'reset' },
    );
  }
  return { kind: 'reset', injected: false };
}
