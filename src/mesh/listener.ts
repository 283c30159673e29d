/**
 * A listener of the mesh: an HTTP server on 127.0.0.1 created by meshdev (never by a
 * proxy library), so listen errors are caught and reported by name, in-flight requests
 * are counted, and shutdown can be graceful.
 */
import http from 'node:http';
import type { Socket } from 'node:net';

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

/** An HTTP server with in-flight accounting. */
export class MeshListener {
  readonly server: http.Server;
  private inFlight = 0;
  private readonly upgraded = new Set<Socket>();
  private idleWaiters: Array<() => void> = [];

  constructor(
    readonly info: Omit<ListenerInfo, 'port'> & { port: number },
    onRequest: http.RequestListener,
    onUpgrade?: (req: http.IncomingMessage, socket: Socket, head: Buffer) => void,
  ) {
    this.server = http.createServer({ noDelay: true, keepAliveTimeout: 5_000 }, (req, res) => {
      this.inFlight++;
      res.on('close', () => {
        this.inFlight--;
        if (this.inFlight === 0) this.idleWaiters.splice(0).forEach((wake) => wake());
      });
      onRequest(req, res);
    });
    if (onUpgrade) {
      this.server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
        this.upgraded.add(socket);
        socket.on('close', () => this.upgraded.delete(socket));
        onUpgrade(req, socket, head);
      });
    }
    // A broken client connection is the client's problem, never a crash.
    this.server.on('clientError', (_error, socket) => socket.destroy());
  }

  /** A short name for messages: `outbound orders→payments`. */
  get label(): string {
    const { kind, service, version, caller } = this.info;
    if (kind === 'gateway') return 'gateway';
    if (kind === 'outbound') return `outbound ${caller}→${service}`;
    return `inbound ${service}${version && version !== 'default' ? `@${version}` : ''}`;
  }

  /** Starts listening on 127.0.0.1; resolves with the bound port. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) =>
        reject(new ListenError(this.label, this.info.port, error.code ?? error.message));
      this.server.once('error', onError);
      this.server.listen(this.info.port, '127.0.0.1', () => {
        this.server.off('error', onError);
        this.info.port = (this.server.address() as { port: number }).port;
        resolve(this.info.port);
      });
    });
  }

  /** Stops accepting, lets requests in flight finish for up to `graceMs`, then cuts the rest. */
  async close(graceMs: number): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.idleWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.server.closeAllConnections();
    for (const socket of this.upgraded) socket.destroy();
    await closed;
  }
}
