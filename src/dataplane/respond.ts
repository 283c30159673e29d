/**
 * Writes a pipeline outcome to the caller: status and headers (hop-by-hop removed),
 * then the body streamed as it arrives. An injected reset resets the caller's socket.
 * Resolves when the response is done, with the bytes sent.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Outcome } from './pipeline.js';
import { forwardResponseHeaders } from './headers.js';
import { dropBody } from './request-body.js';

/** How the response ended. */
export interface Delivery {
  status: number;
  bytesOut: number;
  /** False when the caller went away or the body broke mid-way. */
  complete: boolean;
  /** Who cut an incomplete response: the upstream's body broke, or the caller left. */
  cutBy?: 'upstream' | 'caller';
}

/**
 * Tells `respond` when the response closes, with whether it finished: the caller's own
 * `close` listener calls it (one listener per response, not one per reader).
 */
export type OnResponseClosed = (listener: (finished: boolean) => void) => void;

/**
 * Sends `outcome` on `res`. `extra` headers are added (e.g. x-meshdev-attempts); `onClosed`
 * is how the response's `close` reaches it.
 */
export function respond(
  req: IncomingMessage,
  res: ServerResponse,
  outcome: Outcome,
  extra: OutgoingHttpHeaders,
  onClosed: OnResponseClosed,
): Promise<Delivery> {
  if (outcome.kind === 'reset') {
    resetSocket(req);
    return Promise.resolve({ status: 0, bytesOut: 0, complete: true });
  }
  return new Promise((resolve) => {
    let bytesOut = 0;
    let settled = false;
    let upstreamBroke = false;
    const finish = (complete: boolean) => {
      if (settled) return;
      settled = true;
      const cutBy = complete ? undefined : upstreamBroke ? 'upstream' : 'caller';
      resolve({ status: outcome.status, bytesOut, complete, cutBy });
    };
    // `close` follows `finish` on every response (Node >= 16), and is the only event when
    // the caller leaves first: whether the response finished tells the two apart.
    onClosed((finished) => {
      if (!finished) dropBody(outcome.body);
      finish(finished);
    });
    if (res.destroyed) {
      dropBody(outcome.body);
      return finish(false);
    }
    res.writeHead(outcome.status, forwardResponseHeaders(outcome.headers, extra));
    const body = outcome.body;
    if (!body) return void res.end();
    const observer = outcome.observe;
    const resume = () => body.resume();
    body.on('data', (chunk: Buffer) => {
      bytesOut += chunk.length;
      observer?.chunk(chunk);
      // Backpressure: wait for the caller to drain (a listener only when it is needed).
      if (!res.write(chunk)) {
        body.pause();
        res.once('drain', resume);
      }
    });
    body.on('end', () => {
      observer?.end();
      res.end();
    });
    body.on('error', () => {
      // The upstream broke mid-body: cut the caller off rather than end cleanly.
      upstreamBroke = true;
      res.destroy();
    });
  });
}

/**
 * Resets the caller's TCP connection: the client sees ECONNRESET. A TLS socket has no TCP
 * handle of its own (`resetAndDestroy` throws ERR_INVALID_HANDLE_TYPE): the TCP socket
 * under it is reset when Node exposes it, else the TLS socket is destroyed.
 */
export function resetSocket(req: IncomingMessage): void {
  type Resettable = IncomingMessage['socket'] & {
    resetAndDestroy?: () => void;
    _parent?: Resettable | null;
  };
  const socket = req.socket as Resettable;
  for (const candidate of [socket, socket._parent]) {
    if (!candidate || typeof candidate.resetAndDestroy !== 'function') continue;
    try {
      candidate.resetAndDestroy();
      if (candidate !== socket) socket.destroy();
      return;
    } catch {
      // Not a TCP handle (TLS, or the replaying stream of a permissive listener).
    }
  }
  socket.destroy();
}
