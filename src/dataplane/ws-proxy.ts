/**
 * WebSocket upgrades, through http-proxy-3's `ws()` (the maintained successor of
 * http-proxy). The request goes with the path and headers the entry's stages decided
 * (normalized, header policy applied), never the client's raw ones. A failed upgrade
 * closes the caller's socket; it never crashes the mesh.
 */
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { createProxyServer } from 'http-proxy-3';
import { checkSpiffeId, type HopTls } from './forwarder.js';

// x-forwarded-* are set by the header policy; the proxy must not add its own.
const proxy = createProxyServer({ xfwd: false });
proxy.on('error', (_error: Error, _req: unknown, socket: unknown) => {
  (socket as Socket | undefined)?.destroy?.();
});

/** Where and how to tunnel one upgrade. */
export interface UpgradeTarget {
  port: number;
  path: string;
  headers: OutgoingHttpHeaders;
  tls?: HopTls;
}

/** Tunnels an upgrade request to `127.0.0.1:port`. */
export function proxyUpgrade(
  req: IncomingMessage,
  socket: Socket,
  head: Buffer,
  target: UpgradeTarget,
): void {
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
    : `http://127.0.0.1:${target.port}`;
  proxy.ws(req, socket, head, { target: destination as never, secure: true }, () =>
    socket.destroy(),
  );
}
