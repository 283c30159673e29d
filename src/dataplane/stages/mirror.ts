/**
 * Mirror stage (outbound hop, after `contract`): a route with `mirror: {to, percent}`
 * sends a copy of `percent` % of its calls to version `to`, as Istio's `mirror` does —
 * fire and forget: the copy's answer is read and discarded, its failure never touches the
 * call, and the call does not wait for it. The copy's `Host` gets Istio's `-shadow`
 * suffix, so the mirror can tell copies from real calls; it is recorded as a call of its
 * own (`mirror: true`), so its status and latency show beside the version it shadows.
 * Its deadline is the call's. A body too large to buffer (over 64 KiB) streams to the
 * call and is not copied.
 */
import { Cancel } from '../../lib/cancel.js';
import type { MeshBus } from '../../telemetry/bus.js';
import type { CallRecord, ResponseFlag } from '../../telemetry/call-record.js';
import type { Forwarder } from '../forwarder.js';
import type { HopContext, Outcome, Stage } from '../pipeline.js';
import { bodyForAttempt, bodySize, isReplayable } from '../request-body.js';
import { inboundFailure, type HopTlsSource } from './upstream.js';

/** What the mirror stage needs from the mesh. */
export interface MirrorDeps {
  forwarder: Forwarder;
  tlsFor: HopTlsSource;
  bus: MeshBus;
}

/** Builds the mirror stage. */
export function mirrorStage(deps: MirrorDeps): Stage<HopContext> {
  return {
    name: 'mirror',
    handle(ctx, next) {
      const mirror = ctx.route?.rule.mirror;
      // The draw is made only on mirrored routes: seeded runs of other routes stay the same.
      if (mirror && isReplayable(ctx.body) && ctx.random() * 100 < mirror.percent)
        sendCopy(deps, ctx, mirror.to);
      return next();
    },
  };
}

/** Sends the copy to `version` and records it when its answer has been read. */
function sendCopy(deps: MirrorDeps, ctx: HopContext, version: string): void {
  const startedAt = ctx.clock.now();
  const target = ctx.service.target(version);
  const tls = target && !target.direct ? deps.tlsFor(ctx.caller, ctx.service.name) : undefined;
  const record = (status: number, bytesOut: number, flags: ResponseFlag[]) =>
    deps.bus.emit('call', mirrorRecord(ctx, version, startedAt, status, bytesOut, flags, tls));
  if (!target) return record(0, 0, ['UF']);
  const cancel = new Cancel();
  const timer =
    ctx.deadline === undefined
      ? undefined
      : setTimeout(() => cancel.abort(), Math.max(0, ctx.deadline - startedAt));
  timer?.unref();
  const host = String(ctx.headers.host ?? ctx.service.name);
  // The answer is read where the forward settles: nobody waits on this promise.
  void deps.forwarder.forward(
    target.port,
    {
      method: ctx.method,
      path: ctx.path,
      headers: { ...ctx.headers, host: shadowHost(host) },
      body: bodyForAttempt(ctx.body),
      signal: cancel,
    },
    (result) => {
      if (result.kind !== 'response') {
        clearTimeout(timer);
        const refused = result.kind === 'failure' && result.cause === 'connect-failure';
        return record(0, 0, [cancel.aborted ? 'UT' : refused ? 'UF' : 'UC']);
      }
      // The inbound listener's own answers say what failed one hop further, as for a call.
      const said = inboundFailure(result.headers['x-meshdev-error'])?.flag;
      drain(result, cancel, (bytes, complete) => {
        clearTimeout(timer);
        const cut: ResponseFlag[] = complete ? [] : [cancel.aborted ? 'UT' : 'UC'];
        record(result.status, bytes, said ? [said, ...cut] : cut);
      });
    },
    tls,
  );
}

/** Reads and discards a copy's answer, then reports its size and whether it all came. */
function drain(
  outcome: Extract<Outcome, { kind: 'response' }>,
  cancel: Cancel,
  done: (bytes: number, complete: boolean) => void,
): void {
  const body = outcome.body;
  if (!body) return done(0, true);
  let bytes = 0;
  body.on('data', (chunk: Buffer) => (bytes += chunk.length));
  body.once('end', () => done(bytes, true));
  body.once('error', () => done(bytes, false));
  cancel.onAbort(() => body.destroy(new Error('the copy outlived the call’s deadline')));
}

/** Istio's shadow authority: `reviews:9080` → `reviews-shadow:9080`. */
export function shadowHost(host: string): string {
  const match = /^(\[[^\]]*\]|[^:]*)(:\d+)?$/.exec(host);
  return match ? `${match[1]}-shadow${match[2] ?? ''}` : `${host}-shadow`;
}

/** The copy's call record: the call's trace and route, the mirror's version and outcome. */
function mirrorRecord(
  ctx: HopContext,
  version: string,
  startedAt: number,
  status: number,
  bytesOut: number,
  flags: ResponseFlag[],
  tls: unknown,
): CallRecord {
  const traceparent = String(ctx.headers.traceparent ?? '');
  const record: CallRecord = {
    time: startedAt,
    traceId: traceparent.split('-')[1] ?? '',
    requestId: String(ctx.headers['x-request-id'] ?? ''),
    caller: ctx.caller,
    service: ctx.service.name,
    version,
    method: ctx.method,
    path: ctx.path,
    route: ctx.routeTemplate,
    status,
    durationMs: ctx.clock.now() - startedAt,
    bytesIn: bodySize(ctx.body),
    bytesOut,
    flags,
    attempts: 1,
    security: tls ? 'mutual_tls' : 'none',
    mirror: true,
  };
  if (ctx.route) record.routeRule = ctx.route.rule.name;
  return record;
}
