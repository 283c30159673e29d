/**
 * Hop stage (terminal of the gateway and outbound entries): runs a hop pipeline towards
 * `ctx.target` — the outbound array for HTTP, the upgrade array for WebSocket handshakes.
 * It reads the body (buffered for retries up to 64 KiB), starts the trace, sets the
 * whole-call deadline (the service's `timeout`, else Envoy's 15 s default) and leaves the
 * hop on the entry context for the call record.
 */
import type { MeshRuntime } from '../runtime.js';
import type { EntryContext } from '../entry-context.js';
import { errorOutcome } from '../error-outcome.js';
import type { MeshBus } from '../../telemetry/bus.js';
import {
  runPipeline,
  type HopClock,
  type HopContext,
  type Outcome,
  type Stage,
} from '../pipeline.js';
import type { Random } from '../../lib/random.js';
import { bodySize, EMPTY_BODY, hasRequestBody, readRequestBody } from '../request-body.js';
import { ensureTrace } from '../trace.js';

/** Time a call may take to its response headers when the service sets no `timeout` (ms). */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 15_000;

/** What every hop needs from the mesh. */
export interface HopDeps {
  runtime: MeshRuntime;
  bus: MeshBus;
  random: Random;
  clock: HopClock;
}

/** Builds a hop stage over `stages`; `upgrade` hops read no body and tunnel instead. */
export function hopStage(
  name: 'outbound-hop' | 'upgrade-hop',
  deps: HopDeps,
  stages: readonly Stage<HopContext>[],
): Stage<EntryContext> {
  return {
    name,
    async handle(ctx): Promise<Outcome> {
      const target = ctx.target!;
      const view = deps.runtime.view(target.service);
      if (!view) {
        return errorOutcome('upstream_unreachable', {
          service: target.service,
          detail: 'not in the config in force',
        });
      }
      ctx.trace = ensureTrace(ctx.headers);
      let body = EMPTY_BODY;
      // Awaited only when there is a body: a GET goes on without a turn of the event loop.
      if (!ctx.upgrade && hasRequestBody(ctx.req)) {
        try {
          body = await readRequestBody(ctx.req);
        } catch {
          // The caller went away mid-upload: nobody to answer.
          ctx.flags.add('DC');
          return { kind: 'reset', injected: false };
        }
      }
      ctx.bodyBytes = () => bodySize(body);
      const timeoutMs = view.config.timeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
      const hop: HopContext = {
        caller: ctx.caller!,
        service: view,
        method: ctx.method,
        path: ctx.path,
        pathname: ctx.pathname,
        headers: ctx.headers,
        body,
        clientSignal: ctx.clientSignal,
        pinnedVersion: target.pinnedVersion,
        random: deps.random,
        clock: deps.clock,
        routeTemplate: target.routeTemplate ?? ctx.pathname,
        routeIndex: -1,
        startedAt: ctx.startedAt,
        // `timeout: 0s` turns the deadline off, as in Envoy.
        deadline: timeoutMs > 0 ? ctx.startedAt + timeoutMs : undefined,
        attemptSignal: ctx.clientSignal,
        attempts: 0,
        flags: ctx.flags,
        security: 'none',
        upgrade: ctx.upgrade && {
          req: ctx.req,
          ...ctx.upgrade,
          answerHeaders: ctx.answerHeaders,
        },
      };
      ctx.hop = hop;
      const outcome = await runPipeline(stages, hop);
      if (outcome.kind === 'reset' && !outcome.injected && !ctx.clientSignal.aborted) {
        ctx.flags.add('UC');
        return errorOutcome('upstream_reset', { service: view.name, version: hop.version });
      }
      return outcome;
    },
  };
}
