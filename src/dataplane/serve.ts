/**
 * Runs an entry's stage array for one request and delivers what it answers: streamed to
 * the caller for HTTP, written on the raw socket for a refused WebSocket handshake. It
 * emits one call record per outbound hop (upgrades: when the tunnel closes). Nothing a
 * stage throws reaches the process: it costs that one request, reported as a warning.
 */
import {
  STATUS_CODES,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import { Cancel } from '../lib/cancel.js';
import type { MeshBus } from '../telemetry/bus.js';
import type { CallRecord } from '../telemetry/call-record.js';
import { createEntryContext, type EntryContext, type EntryStart } from './entry-context.js';
import {
  runPipeline,
  SWITCHING_PROTOCOLS,
  type HopClock,
  type Outcome,
  type Stage,
} from './pipeline.js';
import { respond } from './respond.js';
import { discard } from './stages/retry.js';
import { ensureTrace } from './trace.js';
import { CloseCodeReader } from './ws-close-code.js';

/** What serving needs from the mesh. */
export interface ServeDeps {
  bus: MeshBus;
  clock: HopClock;
}

/** An entry: its declared stages and what it knows before they run. */
export interface Entry {
  start: EntryStart;
  stages: readonly Stage<EntryContext>[];
}

/** Serves one HTTP request through `entry`. */
export async function serveRequest(
  deps: ServeDeps,
  entry: Entry,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const client = new Cancel();
  // The one `close` listener of the response: a caller gone before the end cancels the
  // call, and `respond` (once it runs) learns how the response ended.
  let closed: ((finished: boolean) => void) | undefined;
  res.on('close', () => {
    const finished = res.writableFinished;
    if (!finished) client.abort();
    closed?.(finished);
  });
  const ctx = createEntryContext(req, entry.start, deps.clock.now(), client);
  let outcome: Outcome;
  try {
    outcome = await runPipeline(entry.stages, ctx);
  } catch (error) {
    outcome = failedRun(deps, entry, error);
  }
  // A stage that answered before reading the body: drain it so keep-alive goes on.
  if (req.readableFlowing === null) req.resume();
  if (client.aborted || ctx.flags.has('DC')) {
    // The caller went away (Envoy's DC): nobody gets an answer, whatever came back.
    discard(outcome);
    ctx.flags.add('DC');
    return recordCall(deps, ctx, 0, 0);
  }
  const hop = ctx.hop;
  // The answer headers are this call's own object: the mesh's headers join them.
  const extra: OutgoingHttpHeaders = ctx.answerHeaders ?? {};
  if (hop) {
    extra['x-meshdev-attempts'] = String(Math.max(1, hop.attempts));
    if (ctx.flags.size > 0) extra['x-meshdev-flags'] = [...ctx.flags].join(',');
  }
  const delivery = await respond(req, res, outcome, extra, (onClosed) => (closed = onClosed));
  // A response cut short says by whom, as Envoy's flags do: the upstream (UC), the caller (DC).
  if (delivery.cutBy) ctx.flags.add(delivery.cutBy === 'upstream' ? 'UC' : 'DC');
  recordCall(deps, ctx, delivery.status, delivery.bytesOut);
}

/** Serves one WebSocket handshake through `entry`. */
export async function serveUpgrade(
  deps: ServeDeps,
  entry: Entry,
  req: IncomingMessage,
  socket: Socket,
  head: Buffer,
): Promise<void> {
  const client = new Cancel();
  socket.once('close', () => client.abort());
  const ctx = createEntryContext(req, entry.start, deps.clock.now(), client, {
    socket,
    head,
  });
  const closeCode = watchCloseCode(socket);
  let outcome: Outcome;
  try {
    outcome = await runPipeline(entry.stages, ctx);
  } catch (error) {
    outcome = failedRun(deps, entry, error);
  }
  if (outcome.kind === 'response' && outcome.status === SWITCHING_PROTOCOLS) {
    // The tunnel owns the socket: the call lasts as long as the session, and its status
    // is the upstream's answer (101, what it said instead, or 502 when it was unreachable);
    // a caller that left before any answer came is Envoy's DC, status 0.
    const recordSession = () => {
      const tunnel = ctx.hop?.tunnel;
      const pending = tunnel !== undefined && tunnel.status < 0;
      const status = !tunnel ? SWITCHING_PROTOCOLS : pending ? 0 : tunnel.status;
      if (pending) ctx.flags.add('DC');
      if (tunnel?.failure) ctx.flags.add(tunnel.failure === 'connect-failure' ? 'UF' : 'UC');
      recordCall(deps, ctx, status, socket.bytesWritten, socket.bytesRead, {
        wsCloseCode: closeCode(),
      });
    };
    if (socket.destroyed) recordSession();
    else socket.once('close', recordSession);
    return;
  }
  if (ctx.answerHeaders && outcome.kind === 'response') {
    Object.assign(outcome.headers, ctx.answerHeaders);
  }
  await writeOnSocket(socket, outcome);
  recordCall(deps, ctx, outcome.kind === 'response' ? outcome.status : 0, 0);
}

/**
 * What a stage that threw (or rejected) costs: this request only, reset, and a warning.
 * Callers `await` the stages inside `try` rather than chaining a `.catch()`, which would
 * make one more promise per request.
 */
function failedRun(deps: ServeDeps, entry: Entry, error: unknown): Outcome {
  deps.bus.emit('warning', { listener: entry.start.listener, message: String(error) });
  return { kind: 'reset', injected: false };
}

/**
 * The close code of the session tunnelled over `socket`: the first close frame either side
 * sends. The tunnel pipes the upstream into `socket` (its `pipe` event names the upstream)
 * and `socket` into the upstream right after, so both directions are read as they pass.
 */
function watchCloseCode(socket: Socket): () => number | undefined {
  let code: number | undefined;
  const watch = (stream: NodeJS.ReadableStream) => {
    const reader = new CloseCodeReader();
    const onData = (chunk: Buffer) => {
      reader.push(chunk);
      if (reader.code === undefined) return;
      code ??= reader.code;
      stream.off('data', onData);
    };
    stream.on('data', onData);
  };
  socket.once('pipe', (upstream: NodeJS.ReadableStream) => {
    watch(upstream);
    watch(socket);
  });
  return () => code;
}

/** Answers a refused handshake with a plain HTTP response, then closes the socket. */
async function writeOnSocket(socket: Socket, outcome: Outcome): Promise<void> {
  if (outcome.kind === 'reset' || socket.destroyed) return void socket.destroy();
  const chunks: Buffer[] = [];
  if (outcome.body) for await (const chunk of outcome.body) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const lines = [`HTTP/1.1 ${outcome.status} ${STATUS_CODES[outcome.status] ?? ''}`];
  for (const [name, value] of Object.entries(outcome.headers)) {
    if (value === undefined || name === 'content-length' || name === 'connection') continue;
    for (const item of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${item}`);
  }
  lines.push(`content-length: ${body.length}`, 'connection: close', '', '');
  socket.on('error', () => socket.destroy());
  socket.end(Buffer.concat([Buffer.from(lines.join('\r\n')), body]));
}

/** One call record for an entry that went on a hop (or was refused on its way to one). */
function recordCall(
  deps: ServeDeps,
  ctx: EntryContext,
  status: number,
  bytesOut: number,
  bytesIn = ctx.bodyBytes(),
  extra: { wsCloseCode?: number } = {},
): void {
  const { target, hop } = ctx;
  if (!target) return;
  const trace = ctx.trace ?? ensureTrace(ctx.headers);
  const check = hop?.contract;
  // The gateway's consumer, or the one a callee's inbound side recognized (east–west auth).
  const consumer = ctx.consumer?.name ?? hop?.consumer;
  // One shape for every record, optional fields added after (spreads of maybe-objects
  // made records of many shapes, slowing every subscriber's reads).
  const call: CallRecord = {
    time: ctx.startedAt,
    traceId: trace.traceId,
    requestId: trace.requestId,
    caller: ctx.caller ?? 'unknown',
    service: target.service,
    version: hop?.version ?? '',
    method: ctx.method,
    path: ctx.path,
    route: hop?.routeTemplate ?? target.routeTemplate ?? ctx.pathname,
    status,
    durationMs: deps.clock.now() - ctx.startedAt,
    bytesIn,
    bytesOut,
    flags: ctx.flags.size === 0 ? [] : [...ctx.flags],
    attempts: hop?.attempts ?? 0,
    security: hop?.security ?? 'none',
  };
  if (hop?.route) call.routeRule = hop.route.rule.name;
  if (consumer) call.consumer = consumer;
  if (check) {
    call.operation = check.operation;
    call.response = check.response;
    call.violations = [];
  }
  if (extra.wsCloseCode !== undefined) call.wsCloseCode = extra.wsCloseCode;
  if (!check) return void deps.bus.emit('call', call);
  // The response body was delivered: checking it now costs the caller nothing. The record
  // waits for the check (in `report` mode a worker thread's answer).
  check.finish((violations) => {
    call.violations = violations;
    if (check.hasErrors() && !call.flags.includes('CV')) call.flags.push('CV');
    deps.bus.emit('call', call);
  });
}
