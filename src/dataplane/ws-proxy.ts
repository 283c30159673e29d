/**
 * WebSocket upgrades, through http-proxy-3's `ws()` (the maintained successor of
 * http-proxy). A failed upgrade closes the caller's socket; it never crashes the mesh.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { createProxyServer } from 'http-proxy-3';
import { checkSpiffeId, type HopTls } from './forwarder.js';

const proxy = createProxyServer({ xfwd: true });
proxy.on('error', (_error: Error, _req: unknown, socket: unknown) => {
  (socket as Socket | undefined)?.destroy?.();
});

/** Tunnels an upgrade request to `127.0.0.1:port`. */
export function proxyUpgrade(
  req: IncomingMessage,
  socket: Socket,
  head: Buffer,
  port: number,
  headers: Record<string, string> = {},
  tls?: HopTls,
): void {
  socket.on('error', () => socket.destroy());
  for (const [name, value] of Object.entries(headers)) req.headers[name] = value;
  const target = tls
    ? {
        protocol: 'https:',
        host: '127.0.0.1',
        port,
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        servername: 'localhost',
        checkServerIdentity: checkSpiffeId(tls.expectedId),
      }
    : `http://127.0.0.1:${port}`;
  proxy.ws(req, socket, head, { target: target as never, secure: true }, () => socket.destroy());
}
