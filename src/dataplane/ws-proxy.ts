/**
 * WebSocket upgrades, through http-proxy-3's `ws()` (the maintained successor of
 * http-proxy). The request goes with the path and headers the entry's stages decided
 * (normalized, header policy applied), never the client's raw ones. An upgrade that fails
 * before the upstream answers is answered with the target's refusal (a 502 naming the
 * service) and the caller's socket closed; it never crashes the mesh.
 */
import { authorityOf, type LoopbackHost } from './loopback.js';
import type { ClientRequest, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { createProxyServer } from 'http-proxy-3';
import { checkSpiffeId, type HopTls } from './forwarder.js';

// x-forwarded-* are set by the header policy; the proxy must not add its own.
const proxy = createProxyServer({ xfwd: false });

/**
 * How the upstream answered a tunneled handshake, as far as it is known: 101 once it
 * switched protocols, its status when it answered plainly instead (http-proxy-3 relays
 * that answer and closes), 502 when the connection failed first and the caller was told
 * so, 0 when it could not be.
 */
export interface Handshake {
  status: number;
  /** Why it failed (status 502 or 0), or that the inbound side behind could not connect. */
  failure?: 'connect-failure' | 'reset';
}

/** The handshake of each request being tunneled (the proxy's events name the request). */
const handshakes = new WeakMap<IncomingMessage, Handshake>();
/** The answer headers of each request being tunneled, when its entry has any. */
const answerHeadersOf = new WeakMap<IncomingMessage, Readonly<Record<string, string>>>();

proxy.on('proxyReqWs', (proxyReq: ClientRequest, req: IncomingMessage, socket: Socket) => {
  const handshake = handshakes.get(req);
  if (!handshake) return;
  // The proxy emits this before it listens to `proxyReq` itself: what is added to the
  // upstream's answer here is in the head it writes to the caller (101 or a plain answer).
  const answerHeaders = answerHeadersOf.get(req);
  const addAnswerHeaders = (response: IncomingMessage) => {
    if (answerHeaders) Object.assign(response.headers, answerHeaders);
  };
  // A caller that leaves before the upstream answers: the listener keeps its half-open
  // socket (HTTP servers allow half-open connections), so close it, and stop the
  // request to the upstream with it — nobody waits on either side.
  socket.once('end', () => {
    if (handshake.status === PENDING) socket.destroy();
  });
  socket.once('close', () => {
    if (handshake.status === PENDING) proxyReq.destroy();
  });
  proxyReq.on('upgrade', (response: IncomingMessage) => {
    handshake.status = SWITCHING_PROTOCOLS;
    addAnswerHeaders(response);
  });
  proxyReq.on('response', (response: IncomingMessage) => {
    handshake.status = response.statusCode ?? 0;
    addAnswerHeaders(response);
    // The inbound listener behind could not reach its app: the same failure, one hop on.
    if (response.headers['x-meshdev-error'] === 'upstream_unreachable')
      handshake.failure = 'connect-failure';
  });
});
proxy.on('error', (_error: Error, _req: unknown, socket: unknown) => {
  (socket as Socket | undefined)?.destroy?.();
});

/**
 * A tunnel that failed: before the upstream answered, the caller gets the target's
 * refusal (a 502 naming the service) if it has one; the caller's socket is closed.
 */
function failed(handshake: Handshake, error: Error, socket: Socket, target: UpgradeTarget): void {
  if (handshake.status !== PENDING) return void socket.destroy();
  const code = (error as { code?: string }).code;
  const failure = code === 'ECONNREFUSED' ? 'connect-failure' : 'reset';
  handshake.failure = failure;
  if (!target.refusal || !socket.writable || socket.bytesWritten > 0) {
    handshake.status = 0;
    return void socket.destroy();
  }
  socket.end(target.refusal(failure, code ?? error.message));
  handshake.status = REFUSED;
}

/** What a handshake's status is until the upstream answers. */
const PENDING = -1;
/** The status of the refusal a failed tunnel answers with (`upstream_unreachable`, `_reset`). */
const REFUSED = 502;
const SWITCHING_PROTOCOLS = 101;

/** Where and how to tunnel one upgrade. */
export interface UpgradeTarget {
  port: number;
  /** Where a plain (non-mTLS) target listens: 127.0.0.1 unless the app is on ::1. */
  host?: LoopbackHost;
  path: string;
  headers: OutgoingHttpHeaders;
  /** Headers the entry adds to whatever answers the handshake (the limit stage's). */
  answerHeaders?: Readonly<Record<string, string>>;
  tls?: HopTls;
  /** The raw HTTP answer for a tunnel that failed before the upstream answered. */
  refusal?: (failure: 'connect-failure' | 'reset', detail: string) => string;
}

/**
 * Tunnels an upgrade request to `port` on loopback; the handshake it returns fills in as
 * the upstream answers (read it when the caller's socket closes).
 */
export function proxyUpgrade(
  req: IncomingMessage,
  socket: Socket,
  head: Buffer,
  target: UpgradeTarget,
): Handshake {
  const handshake: Handshake = { status: PENDING };
  handshakes.set(req, handshake);
  if (target.answerHeaders) answerHeadersOf.set(req, target.answerHeaders);
  socket.on('error', () => socket.destroy());
  req.url = target.path;
  req.headers = target.headers as IncomingMessage['headers'];
  const { tls } = target;
  const destination = tls
    ? {
        protocol: 'https:',
        host: '127.0.0.1',
        port: target.port,
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        servername: 'localhost',
        checkServerIdentity: checkSpiffeId(tls.expectedId),
      }
    : `http://${authorityOf(target.host ?? '127.0.0.1', target.port)}`;
  proxy.ws(req, socket, head, { target: destination as never, secure: true }, (error) =>
    failed(handshake, error, socket, target),
  );
  return handshake;
}
