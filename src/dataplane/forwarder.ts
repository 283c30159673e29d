/**
 * Forwards plain HTTP requests with undici: one keep-alive pool (`HopPool`, of undici
 * `Client`s) per upstream origin, no undici timeouts (the pipeline owns timeouts), errors
 * mapped to failure causes.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { createRequire } from 'node:module';
import { createSecureContext, type TLSSocket } from 'node:tls';
import type { buildConnector as buildConnectorType, Dispatcher } from 'undici';
import type { CancelSignal } from '../lib/cancel.js';
import { HopPool } from './hop-pool.js';
import { APP_IDLE_MS, HOP_IDLE_MS } from './keep-alive.js';
import { AppAddresses, authorityOf, type LoopbackHost } from './loopback.js';
import type { Outcome } from './pipeline.js';

/**
 * undici's TLS connector from its own file: undici's index (fetch, WebSocket, caches, the
 * request API) costs ~0.1 s of every start to load.
 */
const requireUndici = createRequire(import.meta.url);
const buildConnector = requireUndici('undici/lib/core/connect.js') as typeof buildConnectorType;

/** One request to forward. */
export interface ForwardRequest {
  method: string;
  path: string;
  headers: OutgoingHttpHeaders;
  body: Buffer | Readable | undefined;
  /** Cancels the forward (the caller left, or the attempt timed out). */
  signal: CancelSignal;
}

/** A failed forward that never produced a response. */
export interface ForwardFailure {
  kind: 'failure';
  cause: 'connect-failure' | 'reset' | 'protocol-error';
  detail: string;
}

/** mTLS for one hop: the caller's certificate and the SPIFFE ID the server must have. */
export interface HopTls {
  ca: string;
  cert: string;
  key: string;
  /** Who presents this certificate (one pool per caller and target). */
  caller: string;
  expectedId: string;
  /** Certificate generation: a newer one retires the pools of older ones. */
  generation: number;
}

/** A server whose certificate does not carry the SPIFFE ID the hop was meant for. */
export class IdentityMismatchError extends Error {
  readonly code = 'ERR_MESH_IDENTITY';
}

/**
 * Node ignores URI SANs when checking a server: this checks the SPIFFE ID instead, so a
 * misdirected hop fails closed.
 */
export function checkSpiffeId(expected: string) {
  return (_host: string, cert: { subjectaltname?: string }): Error | undefined => {
    const uris = (cert.subjectaltname ?? '')
      .split(/,\s*/)
      .filter((entry) => entry.startsWith('URI:'));
    if (uris.includes(`URI:${expected}`)) return undefined;
    const got = uris.map((uri) => uri.slice(4)).join(', ') || 'no SPIFFE ID';
    return new IdentityMismatchError(`server identity mismatch: expected ${expected}, got ${got}`);
  };
}

/** Keeps one pool per origin (and per caller identity for mTLS) for the life of the mesh. */
export class Forwarder {
  /** Plain pools by port (a number key: no origin string built per call), with their host. */
  private readonly pools = new Map<number, { host: LoopbackHost; pool: HopPool }>();
  /** Which loopback address each app port answers on (127.0.0.1, or ::1 for some dev servers). */
  readonly appAddresses = new AppAddresses();
  /** mTLS pools by port, then by caller. */
  private readonly tlsPools = new Map<number, Map<string, { generation: number; pool: HopPool }>>();

  /**
   * `hopIdleMs`: how long mTLS pools between listeners keep idle connections; `appIdleMs`:
   * how long pools to apps do (tests shorten them).
   */
  constructor(
    private readonly hopIdleMs = HOP_IDLE_MS,
    private readonly appIdleMs = APP_IDLE_MS,
  ) {}

  /**
   * Sends the request to `port` on loopback: over mTLS to a mesh listener (127.0.0.1) when
   * `tls` is given, else in plain HTTP to the address the port answers on (found on first
   * use, found again after a refused connection). `answer` turns the result into what the
   * caller wants, in the same step that settles the promise (a `.then` on it would make one
   * more promise per call).
   */
  forward<T>(
    port: number,
    request: ForwardRequest,
    answer: (result: Outcome | ForwardFailure) => T,
    tls?: HopTls,
  ): Promise<T> {
    if (tls) return dispatch(this.tlsPool(port, tls), request, answer);
    const host = this.appAddresses.get(port);
    if (host === undefined) {
      return this.appAddresses
        .find(port)
        .then((found) => this.forwardPlain(found, port, request, answer));
    }
    return this.forwardPlain(host, port, request, answer);
  }

  private forwardPlain<T>(
    host: LoopbackHost,
    port: number,
    request: ForwardRequest,
    answer: (result: Outcome | ForwardFailure) => T,
  ): Promise<T> {
    // Refused: the next call looks for the app again (it may be back, bound elsewhere).
    return dispatch(this.pool(host, port), request, answer, this.appAddresses, port);
  }

  /** Closes every pool (in-flight requests finish first). */
  close(): Promise<void> {
    return this.shutdown((pool) => pool.close());
  }

  /** Destroys every pool at once. */
  destroy(): Promise<void> {
    return this.shutdown((pool) => pool.destroy());
  }

  private async shutdown(end: (pool: HopPool) => Promise<void>): Promise<void> {
    const pools = [
      ...[...this.pools.values()].map((entry) => entry.pool),
      ...[...this.tlsPools.values()].flatMap((byCaller) =>
        [...byCaller.values()].map((entry) => entry.pool),
      ),
    ];
    this.pools.clear();
    this.tlsPools.clear();
    await Promise.allSettled(pools.map(end));
  }

  /**
   * The mTLS pool of one caller to one port. After a certificate rotation the old pool is
   * closed gracefully (its calls in flight finish) and new calls use new certificates.
   */
  private tlsPool(port: number, tls: HopTls): HopPool {
    let byCaller = this.tlsPools.get(port);
    if (!byCaller) this.tlsPools.set(port, (byCaller = new Map()));
    const current = byCaller.get(tls.caller);
    if (current && current.generation === tls.generation) return current.pool;
    if (current) void current.pool.close().catch(() => {});
    const pool = new HopPool(`https://127.0.0.1:${port}`, {
      keepAliveTimeout: this.hopIdleMs,
      keepAliveMaxTimeout: this.hopIdleMs,
      pipelining: 1,
      connect: resumingConnector({
        // One context per pool: given ca/cert/key, tls.connect would parse them into a
        // new SecureContext on every connection (milliseconds each, under connection churn).
        secureContext: createSecureContext({ ca: tls.ca, cert: tls.cert, key: tls.key }),
        servername: 'localhost',
        checkServerIdentity: checkSpiffeId(tls.expectedId),
      }),
    });
    byCaller.set(tls.caller, { generation: tls.generation, pool });
    return pool;
  }

  private pool(host: LoopbackHost, port: number): HopPool {
    const current = this.pools.get(port);
    if (current && current.host === host) return current.pool;
    // The app moved to the other address: calls in flight on the old pool finish.
    if (current) void current.pool.close().catch(() => {});
    const pool = new HopPool(`http://${authorityOf(host, port)}`, {
      keepAliveTimeout: this.appIdleMs,
      keepAliveMaxTimeout: this.appIdleMs,
      pipelining: 1,
    });
    this.pools.set(port, { host, pool });
    return pool;
  }
}

/**
 * Dispatches one request on `pool`; resolves with what `answer` makes of its outcome or of
 * why it failed (rejects if `answer` throws). A refused connection to an app's `port` makes
 * `addresses` forget where it listens.
 */
function dispatch<T>(
  pool: HopPool,
  request: ForwardRequest,
  answer: (result: Outcome | ForwardFailure) => T,
  addresses?: AppAddresses,
  port?: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const settle = (result: Outcome | ForwardFailure) => {
      try {
        resolve(answer(result));
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    };
    pool.dispatch(
      {
        method: request.method as never,
        path: request.path,
        headers: plainHeaders(request.headers),
        body: request.body,
        headersTimeout: 0,
        bodyTimeout: 0,
      },
      new ResponseHandler(request.signal, settle, addresses, port),
    );
  });
}

/**
 * undici's TLS connector, holding on to the latest TLS session. undici caches sessions
 * through WeakRefs only, so a garbage collection between two connections could cost the
 * next one a full handshake instead of a resumed one; this keeps the session its cache
 * refers to alive (one per pool: one caller to one listener).
 */
function resumingConnector(options: buildConnectorType.BuildOptions): buildConnectorType.connector {
  const connect = buildConnector(options);
  // Read by nobody: holding it is the point.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  let latest: Buffer | undefined;
  return (connectOptions, callback) => {
    // undici's connector returns the socket it makes (its types say void): listen from the
    // start, as undici's own cache does; without a socket, only the WeakRef cache is left.
    const socket = connect(connectOptions, callback) as unknown as TLSSocket | undefined;
    socket?.on('session', (session: Buffer) => {
      latest = session;
    });
  };
}

/**
 * Receives one response through undici's `dispatch` API and hands it on as an outcome
 * whose body is a plain Readable fed chunk by chunk, with backpressure (pause/resume).
 * `request()` would add a promise, an AbortSignal listener and its own body stream class
 * per call; cancellation here is a `CancelSignal` listener that aborts the dispatch.
 */
class ResponseHandler implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private body: Readable | undefined;
  private readonly stopListening: () => void;
  private settled = false;
  private ended = false;

  constructor(
    signal: CancelSignal,
    private readonly resolve: (result: Outcome | ForwardFailure) => void,
    private readonly addresses?: AppAddresses,
    private readonly port?: number,
  ) {
    this.stopListening = signal.onAbort(() => this.cancel(new RequestCancelled()));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.settled) controller.abort(new RequestCancelled());
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
  ): void {
    // An informational answer (103 Early Hints, 102) is not the response: it comes next.
    if (this.settled || statusCode < 200) return;
    this.settled = true;
    const body = new Readable({
      read: () => controller.resume(),
      destroy: (error, done) => {
        // Nobody reads the rest: stop the upstream response (its connection is closed).
        if (!controller.aborted && !this.ended) controller.abort(new RequestCancelled());
        this.stopListening();
        done(error);
      },
    });
    this.body = body;
    // undici builds `headers` for this response alone: ours to change, no copy needed.
    this.resolve({ kind: 'response', status: statusCode, headers, body });
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.body && !this.body.push(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    this.ended = true;
    this.stopListening();
    this.body?.push(null);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.stopListening();
    if (this.body) {
      if (!this.body.destroyed) this.body.destroy(error);
      return;
    }
    if (this.settled) return;
    this.settled = true;
    const failure = failureOf(error);
    if (failure.cause === 'connect-failure' && this.port !== undefined)
      this.addresses?.forget(this.port);
    this.resolve(failure);
  }

  /** The caller (or a timeout) gave up: abort the dispatch, and answer if nothing came yet. */
  private cancel(reason: Error): void {
    this.controller?.abort(reason);
    if (this.settled) return;
    this.settled = true;
    this.resolve(failureOf(reason));
  }
}

/** Why a forward stopped on our side: the caller left or the attempt timed out. */
class RequestCancelled extends Error {
  readonly code = 'UND_ERR_ABORTED';
  constructor() {
    super('request cancelled');
  }
}

/** Maps an undici error to the failure cause retry conditions and flags use. */
function failureOf(error: Error): ForwardFailure {
  // `code` is a string for system errors but a number for DOMException aborts.
  const code = String((error as { code?: unknown }).code ?? '');
  if (
    error instanceof IdentityMismatchError ||
    code.startsWith('ERR_TLS') ||
    code.includes('CERT')
  ) {
    return { kind: 'failure', cause: 'connect-failure', detail: error.message };
  }
  if (error.name === 'HTTPParserError' || PROTOCOL_ERRORS.has(code)) {
    // undici's parser errors carry no code, but say what was wrong.
    return { kind: 'failure', cause: 'protocol-error', detail: protocolDetail(error, code) };
  }
  const connect = ['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'EADDRNOTAVAIL', 'ENOTFOUND'];
  return {
    kind: 'failure',
    cause: connect.includes(code) ? 'connect-failure' : 'reset',
    detail: code || error.message,
  };
}

/** undici's errors for an answer that breaks HTTP/1.1 (before its body began). */
const PROTOCOL_ERRORS: ReadonlySet<string> = new Set([
  'UND_ERR_HEADERS_OVERFLOW',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

/** What a protocol error says to a person. */
function protocolDetail(error: Error, code: string): string {
  if (code === 'UND_ERR_HEADERS_OVERFLOW')
    return 'its headers are over 16 KiB (UND_ERR_HEADERS_OVERFLOW)';
  if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH')
    return `its body does not match its content-length (${code})`;
  return error.message;
}

/** Headers as undici takes them: strings or string lists (a copy only when one is not). */
function plainHeaders(headers: OutgoingHttpHeaders): Record<string, string | string[]> {
  let plain = true;
  for (const name in headers) {
    const value = headers[name];
    if (typeof value !== 'string' && !Array.isArray(value)) {
      plain = false;
      break;
    }
  }
  // The usual case: the entry's header policy built them from the caller's, all strings.
  if (plain) return headers as Record<string, string | string[]>;
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value : String(value);
  }
  return out;
}
