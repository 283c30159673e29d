/**
 * A listener of the mesh: an HTTP server on 127.0.0.1 created by meshdev (never by a
 * proxy library), so listen errors are caught and reported by name, in-flight requests
 * are counted, and shutdown can be graceful. Inbound listeners speak mTLS: `strict`
 * accepts only TLS with a client certificate of the mesh CA; `permissive` tells TLS from
 * plaintext by the first byte and serves both.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { SecureContextOptions, TLSSocket } from 'node:tls';
import { instanceLabel } from '../config/model.js';
import { answerClientError, refuseConnect } from './client-error.js';
import { CLIENT_KEEP_ALIVE_MS, INBOUND_KEEP_ALIVE_MS } from './keep-alive.js';
import { serveWithoutUpgrade, wantsTunnel } from './ignored-upgrade.js';

export type ListenerKind = 'gateway' | 'inbound' | 'outbound';

/** What `meshdev up` prints about each listener. */
export interface ListenerInfo {
  kind: ListenerKind;
  /** The service it fronts (gateway: none). */
  service?: string;
  version?: string;
  /** The calling service (outbound only). */
  caller?: string;
  port: number;
  /** Where it forwards (inbound: the instance's own port). */
  target?: number;
  /** `mtls` for inbound listeners that require or accept mTLS. */
  security?: 'mtls-strict' | 'mtls-permissive' | 'tls' | 'plain';
  /**
   * TLS handshakes completed so far, full and resumed (TLS listeners only): under
   * keep-alive load they stay flat — connections are reused, not made per request.
   */
  handshakes?: { full: number; resumed: number };
}

/** TLS settings of a listener; `context` is read again on `refreshTls` (rotation). */
export interface ListenerTls {
  /** strict: client certificate required; permissive: TLS or plaintext; server: TLS, no client cert. */
  mode: 'strict' | 'permissive' | 'server';
  context(): SecureContextOptions;
  /** Told why a connection was refused (plaintext in strict, bad certificate…). */
  onRefused(reason: string): void;
}

/** A listener's port is taken, or it cannot listen for another reason. */
export class ListenError extends Error {
  constructor(
    readonly listener: string,
    readonly port: number,
    readonly code: string,
  ) {
    super(
      code === 'EADDRINUSE'
        ? `port ${port} is already in use (${listener})`
        : `cannot listen on port ${port} for ${listener}: ${code}`,
    );
    this.name = 'ListenError';
  }
}

/** How long a closing listener lets keep-alive connections learn it is going, ms. */
const DRAIN_MS = 500;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The first byte of a TLS handshake record. */
const TLS_HANDSHAKE = 0x16;

/** An HTTP(S) server with in-flight accounting. */
export class MeshListener {
  private readonly servers: http.Server[] = [];
  private readonly secure: https.Server | undefined;
  private readonly entry: net.Server;
  private inFlight = 0;
  private draining = false;
  private readonly sockets = new Set<Socket | Duplex>();
  private idleWaiters: Array<() => void> = [];

  constructor(
    readonly info: ListenerInfo,
    onRequest: http.RequestListener,
    onUpgrade?: (req: http.IncomingMessage, socket: Socket, head: Buffer) => void,
    private readonly tls?: ListenerTls,
    onError?: (error: unknown) => void,
    /** Told what a client sent that was not HTTP it could serve (answered 400/431/408). */
    onClientError: (message: string) => void = () => {},
  ) {
    const settled = () => {
      this.inFlight--;
      if (this.inFlight === 0) this.idleWaiters.splice(0).forEach((wake) => wake());
    };
    const counted: http.RequestListener = (req, res) => {
      this.inFlight++;
      // Draining: answer, then close, so keep-alive clients reconnect to the new listener.
      if (this.draining) res.shouldKeepAlive = false;
      const done = onRequest(req, res) as unknown;
      if (!(done instanceof Promise)) return void res.on('close', settled);
      // A handler that returns a promise settles it once its response is over (the mesh's
      // `serveRequest` does): counting on it spares every request a `close` listener.
      done.then(settled, (error: unknown) => {
        settled();
        // A handler bug must cost one response, never the process.
        onError?.(error);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.destroy();
      });
    };
    const options = {
      noDelay: true,
      keepAliveTimeout: info.kind === 'inbound' ? INBOUND_KEEP_ALIVE_MS : CLIENT_KEEP_ALIVE_MS,
    };
    let plain: http.Server | undefined;
    if (!tls || tls.mode === 'permissive') plain = http.createServer(options, counted);
    if (tls) {
      this.secure = https.createServer(
        {
          ...options,
          ...tls.context(),
          requestCert: tls.mode !== 'server',
          rejectUnauthorized: tls.mode === 'strict',
        },
        counted,
      );
      this.secure.on('tlsClientError', (error) => tls.onRefused(describeTlsError(error)));
      const handshakes = (info.handshakes = { full: 0, resumed: 0 });
      this.secure.on('secureConnection', (socket: TLSSocket) => {
        if (socket.isSessionReused()) handshakes.resumed++;
        else handshakes.full++;
      });
    }
    for (const server of [plain, this.secure]) {
      if (!server) continue;
      this.servers.push(server);
      if (onUpgrade) {
        server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
          this.track(socket);
          // h2c and other protocols not tunneled: served as the HTTP/1.1 request it is.
          if (!wantsTunnel(req)) return serveWithoutUpgrade(server, req, socket, head);
          onUpgrade(req, socket, head);
        });
      }
      // A broken client connection is the client's problem, never a crash; a malformed
      // request gets an answer that says what was wrong with it.
      server.on('clientError', (error, socket) =>
        answerClientError(error, socket, this.label, onClientError),
      );
      server.on('connect', (_req: http.IncomingMessage, socket: Socket) => {
        this.track(socket);
        refuseConnect(socket, this.label, onClientError);
      });
      server.on('connection', (socket: Socket) => {
        // TLS servers do not apply `noDelay` themselves: without it, Nagle and delayed
        // ACKs add ~40 ms to small responses.
        if (typeof socket.setNoDelay === 'function') socket.setNoDelay(true);
        this.track(socket);
      });
    }
    if (tls?.mode === 'permissive') {
      this.entry = net.createServer({ noDelay: true }, (socket) =>
        this.sniff(socket, plain!, this.secure!),
      );
    } else {
      this.entry = (this.secure ?? plain)!;
    }
  }

  /** A short name for messages: `outbound orders→payments`. */
  get label(): string {
    const { kind, service, version, caller } = this.info;
    if (kind === 'gateway') return 'gateway';
    if (kind === 'outbound') return `outbound ${caller}→${service}`;
    return `inbound ${instanceLabel(service!, version)}`;
  }

  /** Starts listening on 127.0.0.1; resolves with the bound port. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) =>
        reject(new ListenError(this.label, this.info.port, error.code ?? error.message));
      this.entry.once('error', onError);
      this.entry.listen(this.info.port, '127.0.0.1', () => {
        this.entry.off('error', onError);
        this.info.port = (this.entry.address() as { port: number }).port;
        resolve(this.info.port);
      });
    });
  }

  /** Re-reads the TLS context (after a certificate rotation): new connections use it. */
  refreshTls(): void {
    if (this.secure && this.tls) this.secure.setSecureContext(this.tls.context());
  }

  /**
   * Frees the port at once (a replacement may bind it) while open connections stay: each
   * may still carry requests, answered with `Connection: close`, until `close` ends them.
   */
  stopAccepting(): void {
    if (!this.entry.listening) return;
    this.draining = true;
    // net.Server's close, not http.Server's: the latter also drops idle keep-alive
    // connections at once, and a client sending on one just then sees ECONNRESET.
    net.Server.prototype.close.call(this.entry);
  }

  /**
   * Stops accepting, then (with `drain`, as on reload) for up to `DRAIN_MS` within
   * `graceMs` connections get `Connection: close` on their next response; idle ones are
   * closed after that; requests in flight finish for up to `graceMs`; the rest are cut.
   */
  async close(graceMs: number, drain = false): Promise<void> {
    if (!this.entry.listening && !this.draining) return;
    this.stopAccepting();
    const started = Date.now();
    const drainMs = drain ? Math.min(graceMs, DRAIN_MS) : 0;
    while (this.sockets.size > 0 && Date.now() - started < drainMs) await sleep(25);
    for (const server of this.servers) server.closeIdleConnections();
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, graceMs - (Date.now() - started)));
        this.idleWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    for (const server of this.servers) server.closeAllConnections();
    for (const socket of this.sockets) socket.destroy();
  }

  private track(socket: Socket | Duplex): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  /** Permissive mode: the first byte tells a TLS handshake from plaintext HTTP. */
  private sniff(socket: Socket, plain: http.Server, secure: https.Server): void {
    this.track(socket);
    socket.on('error', () => socket.destroy());
    socket.once('data', (first: Buffer) => {
      socket.pause();
      if (first[0] === TLS_HANDSHAKE) {
        secure.emit('connection', wrapSocket(socket, first));
      } else {
        socket.unshift(first);
        plain.emit('connection', socket);
        socket.resume();
      }
    });
  }
}

/**
 * TLS cannot start on a socket whose first bytes were already read, so the socket is
 * wrapped in a stream that replays them (permissive mode only; strict listens on TLS).
 */
function wrapSocket(socket: Socket, first: Buffer): Duplex {
  const duplex = new Duplex({
    read: () => void socket.resume(),
    write: (chunk, encoding, done) => void socket.write(chunk, encoding, done),
    final: (done) => {
      socket.end();
      done();
    },
    destroy: (error, done) => {
      socket.destroy(error ?? undefined);
      done(error);
    },
  });
  duplex.push(first);
  socket.on('data', (chunk: Buffer) => {
    if (!duplex.push(chunk)) socket.pause();
  });
  socket.on('end', () => duplex.push(null));
  socket.on('close', () => duplex.destroy());
  Object.assign(duplex, { remoteAddress: socket.remoteAddress, remotePort: socket.remotePort });
  return duplex;
}

function describeTlsError(error: Error & { code?: string }): string {
  const message = error.message.toLowerCase();
  if (message.includes('wrong version number') || message.includes('http request')) {
    return 'plaintext connection refused: mtls is strict (use the outbound listener, or set mesh.mtls: permissive)';
  }
  if (message.includes('peer did not return a certificate'))
    return 'TLS without a client certificate refused (mtls: strict)';
  if (message.includes('certificate has expired')) return 'client certificate has expired';
  if (
    message.includes('unknown ca') ||
    message.includes('unable to get') ||
    message.includes('self signed') ||
    message.includes('self-signed')
  ) {
    return 'client certificate is not signed by the mesh CA';
  }
  return `TLS handshake failed: ${error.message}`;
}
