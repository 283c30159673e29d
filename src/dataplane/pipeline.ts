/**
 * The request pipeline: an onion of small stages, ordered by an exported array. A stage
 * either answers (returns an `Outcome`) or calls `next()` and may inspect or change what
 * comes back — which is how retry sees a fault exactly as it would see a real failure.
 */
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { ResponseFlag } from '../telemetry/call-record.js';
import type { RequestBody } from './request-body.js';
import type { CompiledRoute, ServiceView } from './service-view.js';
import type { Random } from '../lib/random.js';
import type { CallCheck } from '../contracts/call-check.js';
import type { CancelSignal } from '../lib/cancel.js';
import type { Handshake } from './ws-proxy.js';

/** Why an attempt failed without an upstream answer (used by retry conditions). */
export type FailureCause = 'connect-failure' | 'reset' | 'timeout';

/** What a stage returns: a response to stream to the caller, or a connection reset. */
export type Outcome =
  | {
      kind: 'response';
      status: number;
      headers: Record<string, string | string[] | undefined>;
      body: Readable | null;
      cause?: FailureCause;
      /** Sees the body's chunks as they are delivered, and its end (the contract stage's capture). */
      observe?: BodyObserver;
    }
  | { kind: 'reset'; injected: boolean };

/** Watches a response body on its way to the caller without adding a stream to it. */
export interface BodyObserver {
  chunk(chunk: Buffer): void;
  end(): void;
}

/** Calls the rest of the pipeline. */
export type Next = () => Promise<Outcome>;

/** One stage of the onion. */
export interface Stage<C> {
  readonly name: string;
  handle(ctx: C, next: Next): Promise<Outcome>;
}

/** Injected time and randomness, so stages are exact under test. */
export interface HopClock {
  now(): number;
  sleep(ms: number, signal?: CancelSignal): Promise<void>;
}

/** Everything the outbound-hop stages share for one call. */
export interface HopContext {
  readonly caller: string;
  readonly service: ServiceView;
  readonly method: string;
  /** Path with query, as forwarded upstream. */
  readonly path: string;
  /** Path without the query, for matching. */
  readonly pathname: string;
  readonly headers: OutgoingHttpHeaders;
  readonly body: RequestBody;
  /** Aborted when the caller goes away. */
  readonly clientSignal: CancelSignal;
  /** A version fixed by the gateway route, bypassing splits. */
  readonly pinnedVersion?: string;
  readonly random: Random;
  readonly clock: HopClock;
  /** Route template for telemetry (set by the route stage). */
  routeTemplate: string;
  /** The matched route index, or -1 for the implicit default route. */
  routeIndex: number;
  /** The matched route (its policy overrides the service's), set by the route stage. */
  route?: CompiledRoute;
  /** When the call started (ms since the epoch): a route's timeout counts from it. */
  readonly startedAt: number;
  /** Chosen by the split stage. */
  version?: string;
  /** Whole-call deadline (epoch ms), retries included. */
  deadline?: number;
  /** Aborted when the current attempt must stop (per-try timeout, caller gone). */
  attemptSignal: CancelSignal;
  attempts: number;
  readonly flags: Set<ResponseFlag>;
  /** Whether the last attempt went over mTLS (set by the upstream stage). */
  security: 'mutual_tls' | 'none';
  /** The consumer the callee's inbound side recognized (a service with `auth`). */
  consumer?: string;
  /** The contract check of this call, when the callee has a spec (set by the contract stage). */
  contract?: CallCheck;
  /**
   * WebSocket handshakes: the request and the caller's socket, for the tunnel stage, and
   * the entry's answer headers (`EntryContext.answerHeaders`) for the handshake's answer.
   */
  readonly upgrade?: {
    req: IncomingMessage;
    socket: Socket;
    head: Buffer;
    answerHeaders?: Readonly<Record<string, string>>;
  };
  /** How the upstream answered the tunneled handshake (set by the tunnel stage). */
  tunnel?: Handshake;
}

/** The status a tunnel stage answers with once it owns the caller's socket. */
export const SWITCHING_PROTOCOLS = 101;

/** Runs `stages` in order around a context; the last stage must answer. */
export function runPipeline<C>(stages: readonly Stage<C>[], ctx: C): Promise<Outcome> {
  const dispatch = (index: number): Promise<Outcome> => {
    const stage = stages[index];
    if (!stage) throw new Error('pipeline ended without an answer: the last stage must answer');
    return stage.handle(ctx, () => dispatch(index + 1));
  };
  return dispatch(0);
}

/** Real time. */
export const realClock: HopClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = setTimeout(done, ms);
      const stopListening = signal?.onAbort(done);
      function done() {
        clearTimeout(timer);
        stopListening?.();
        resolve();
      }
    }),
};
