/**
 * What a listener answers when a client's bytes are not a request it can serve: a
 * malformed request line or header, headers over Node's limit, a request smuggling
 * attempt (`Content-Length` with `Transfer-Encoding`), a request head that never
 * finished. The client gets a mesh error it can read — 400, 431 or 408 with the usual
 * JSON body and `x-meshdev-error`, as Envoy and Node's own default answer — and the
 * connection is closed; the developer gets a warning naming the listener and the reason.
 * A silent close (what destroying the socket did) leaves curl with "Empty reply from
 * server" and nobody knowing why.
 */
import { maxHeaderSize } from 'node:http';
import type { Duplex, Writable } from 'node:stream';
import { rawMeshError, type MeshErrorCode } from './errors.js';

/** How long a refused client may take to close its side before the socket is destroyed, ms. */
const CLOSE_GRACE_MS = 2_000;

/** Sockets already answered: the parser reports its error again for every later chunk. */
const answered = new WeakSet<Duplex>();

/** The answer to one parse error, or undefined when there is nobody left to answer. */
export interface ClientErrorAnswer {
  status: number;
  code: MeshErrorCode;
  detail: string;
}

/** How a parse error of Node's HTTP parser is answered (undefined: the client is gone). */
export function describeClientError(
  error: Error & { code?: string; reason?: string },
): ClientErrorAnswer | undefined {
  const code = error.code ?? '';
  if (code === 'ECONNRESET' || code === 'EPIPE') return undefined;
  // llhttp's own words ("Invalid method encountered"), and its code for searching.
  const why = `${error.reason ?? error.message}${code ? ` (${code})` : ''}`;
  if (code === 'HPE_HEADER_OVERFLOW') {
    return {
      status: 431,
      code: 'request_headers_too_large',
      detail: `its request line and headers are over ${maxHeaderSize} bytes, Node's limit (${code})`,
    };
  }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return {
      status: 408,
      code: 'request_timeout',
      detail: `its request did not arrive in time (${code})`,
    };
  }
  return { status: 400, code: 'bad_request', detail: why };
}

/**
 * Answers a client error on `socket` of the listener named `listener`, then closes the
 * connection; `warn` hears what was refused. A response still under way on the
 * connection (a pipelined request before the bad one) is finished first: answers on one
 * connection go out in order, and a half-written response is never cut by another.
 */
export function answerClientError(
  error: Error & { code?: string; reason?: string },
  socket: Duplex,
  listener: string,
  warn: (message: string) => void,
): void {
  if (answered.has(socket)) return;
  answered.add(socket);
  if (error.code === H2_PREFACE && socket.writable) return refuseHttp2(socket, listener, warn);
  const answer = describeClientError(error);
  if (!answer || !socket.writable) return void socket.destroy();
  socket.on('error', () => socket.destroy());
  warn(`refused a request${from(socket)} with ${answer.status}: ${answer.detail}`);
  // The response Node is writing on this connection, if any (its own `socketOnError`
  // reads the same field).
  const inFlight = (socket as { _httpMessage?: Writable })._httpMessage;
  if (!inFlight || inFlight.writableFinished) return send(socket, answer, listener);
  inFlight.once('finish', () => send(socket, answer, listener));
  inFlight.once('close', () => {
    if (!inFlight.writableFinished) socket.destroy();
  });
}

/**
 * Answers a `CONNECT` (a client taking the listener for a forward proxy) with 405: Node
 * closes such a connection without a word when nobody listens for `connect`.
 */
export function refuseConnect(
  socket: Duplex,
  listener: string,
  warn: (message: string) => void,
): void {
  socket.on('error', () => socket.destroy());
  warn(`refused a CONNECT${from(socket)} with 405: a mesh listener is not a forward proxy`);
  send(
    socket,
    {
      status: 405,
      code: 'method_not_allowed',
      detail: 'CONNECT: a mesh listener is not a forward proxy',
    },
    listener,
  );
}

/** llhttp's code for a connection that opened with HTTP/2's preface (`PRI * HTTP/2.0`). */
const H2_PREFACE = 'HPE_PAUSED_H2_UPGRADE';

/** HTTP/2's error code for "use HTTP/1.1 instead" (RFC 9113 §7). */
const HTTP_1_1_REQUIRED = 0xd;

/**
 * Refuses a client that speaks HTTP/2 from its first byte (prior knowledge: gRPC clients,
 * `curl --http2-prior-knowledge`) in its own protocol: an HTTP/1.1 400 would read to it
 * as garbage ("Empty reply from server"), while a GOAWAY with HTTP_1_1_REQUIRED is the
 * refusal RFC 9113 §9.1 names, which HTTP/2 clients report by name.
 */
function refuseHttp2(socket: Duplex, listener: string, warn: (message: string) => void): void {
  socket.on('error', () => socket.destroy());
  const why = `meshdev's ${listener} listener speaks HTTP/1.1 only`;
  warn(
    `refused an HTTP/2 connection${from(socket)} (prior knowledge, as gRPC clients open one): ${why}; answered GOAWAY HTTP_1_1_REQUIRED`,
  );
  const debug = Buffer.from(why);
  // The server's preface (an empty SETTINGS frame), then GOAWAY: last stream 0, the code, why.
  const settings = Buffer.from([0, 0, 0, 0x4, 0, 0, 0, 0, 0]);
  const goaway = Buffer.alloc(9 + 8 + debug.length);
  goaway.writeUIntBE(8 + debug.length, 0, 3);
  goaway.writeUInt8(0x7, 3);
  goaway.writeUInt32BE(0, 9);
  goaway.writeUInt32BE(HTTP_1_1_REQUIRED, 13);
  debug.copy(goaway, 17);
  endWithin(socket, Buffer.concat([settings, goaway]));
}

/** ` from 127.0.0.1:port` for a socket that knows its peer (a replayed one may not). */
function from(socket: Duplex): string {
  const { remoteAddress, remotePort } = socket as { remoteAddress?: string; remotePort?: number };
  return remoteAddress ? ` from ${remoteAddress}:${remotePort}` : '';
}

/** Writes the answer and ends the connection. */
function send(socket: Duplex, answer: ClientErrorAnswer, listener: string): void {
  if (!socket.writable) return void socket.destroy();
  endWithin(socket, rawMeshError(answer.code, { service: listener, detail: answer.detail }));
}

/** Writes the last bytes and ends the connection, destroying it if the client never closes. */
function endWithin(socket: Duplex, last: Buffer | string): void {
  // End (FIN) rather than destroy: closing with the client's unread bytes still queued
  // (a 20 KB header) sends a reset, which can make the client drop the answer unread.
  socket.end(last);
  const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
