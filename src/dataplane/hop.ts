/**
 * One outbound hop, as the gateway and every outbound listener run it: read the body
 * (buffered for retries up to 64 KiB), run the outbound pipeline, stream the answer back,
 * and emit one call record.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MeshBus } from '../telemetry/bus.js';
import type { CallRecord, ResponseFlag } from '../telemetry/call-record.js';
import { errorOutcome } from './error-outcome.js';
import { forwardRequestHeaders } from './headers.js';
import {
  runPipeline,
  type HopClock,
  type HopContext,
  type Outcome,
  type Stage,
} from './pipeline.js';
import type { Random } from '../lib/random.js';
import { bodySize, readRequestBody } from './request-body.js';
import { respond } from './respond.js';
import type { MeshRuntime } from './runtime.js';
import { ensureTrace } from './trace.js';
import { discard } from './stages/retry.js';

/** What every hop needs from the mesh. */
export interface HopDeps {
  runtime: MeshRuntime;
  stages: readonly Stage<HopContext>[];
  bus: MeshBus;
  random: Random;
  clock: HopClock;
}

/** Where this hop goes. */
export interface HopTarget {
  caller: string;
  service: string;
  /** Path (with query) to send upstream; the gateway may have stripped a prefix. */
  path: string;
  pinnedVersion?: string;
  /** Route template known before the service's own routes (the gateway prefix). */
  routeTemplate?: string;
  proto: 'http' | 'https';
}

/** Handles one request on an outbound hop from start to call record. */
export async function handleHop(
  deps: HopDeps,
  target: HopTarget,
  req: IncomingMessage,
  res: ServerResponse,
) {
  const started = deps.clock.now();
  const view = deps.runtime.view(target.service)!;
  const headers = forwardRequestHeaders(req.headers, {
    address: req.socket.remoteAddress,
    host: req.headers.host,
    proto: target.proto,
  });
  const { traceId, requestId } = ensureTrace(headers);
  const client = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) client.abort();
  });
  const method = req.method ?? 'GET';
  const queryAt = target.path.indexOf('?');
  const pathname = queryAt < 0 ? target.path : target.path.slice(0, queryAt);
  const flags = new Set<ResponseFlag>();

  const record = (status: number, bytesIn: number, bytesOut: number, ctx?: HopContext) => {
    const call: CallRecord = {
      time: started,
      traceId,
      requestId,
      caller: target.caller,
      service: target.service,
      version: ctx?.version ?? '',
      method,
      path: target.path,
      route: ctx?.routeTemplate ?? target.routeTemplate ?? pathname,
      status,
      durationMs: deps.clock.now() - started,
      bytesIn,
      bytesOut,
      flags: [...flags],
      attempts: ctx?.attempts ?? 0,
      security: ctx?.security ?? 'none',
    };
    deps.bus.emit('call', call);
  };

  let body;
  try {
    body = await readRequestBody(req);
  } catch {
    // The caller went away mid-upload: nothing to answer, but the call happened.
    return record(0, 0, 0);
  }

  const ctx: HopContext = {
    caller: target.caller,
    service: view,
    method,
    path: target.path,
    pathname,
    headers,
    body,
    clientSignal: client.signal,
    pinnedVersion: target.pinnedVersion,
    random: deps.random,
    clock: deps.clock,
    routeTemplate: target.routeTemplate ?? pathname,
    routeIndex: -1,
    deadline: view.config.timeoutMs === undefined ? undefined : started + view.config.timeoutMs,
    attemptSignal: client.signal,
    attempts: 0,
    flags,
    security: 'none',
  };

  let outcome: Outcome;
  try {
    outcome = await runPipeline(deps.stages, ctx);
  } catch (error) {
    deps.bus.emit('warning', {
      listener: `${target.caller}→${target.service}`,
      message: String(error),
    });
    outcome = { kind: 'reset', injected: false };
  }
  if (client.signal.aborted) {
    // The caller went away (Envoy's DC): nobody gets an answer, whatever came back.
    discard(outcome);
    flags.add('DC');
    return record(0, bodySize(body), 0, ctx);
  }
  if (outcome.kind === 'reset' && !outcome.injected) {
    flags.add('UC');
    outcome = errorOutcome('upstream_reset', { service: view.name, version: ctx.version });
  }
  const delivery = await respond(req, res, outcome, {
    'x-meshdev-attempts': String(Math.max(1, ctx.attempts)),
    ...(flags.size > 0 ? { 'x-meshdev-flags': [...flags].join(',') } : {}),
  });
  record(delivery.status, bodySize(body), delivery.bytesOut, ctx);
}
