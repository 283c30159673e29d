/**
 * Upgrades the mesh does not tunnel — `Upgrade: h2c` above all, which `curl --http2`
 * sends on every `http://` request — are ignored, as RFC 9110 §7.8 lets a server do and
 * as Envoy and nginx do: the request is served as the HTTP/1.1 request it also is.
 *
 * Node hands any request with `Upgrade` to the server's `upgrade` listener, detached
 * from its parser. So the request head is written again without the upgrade (its
 * `Upgrade`, `HTTP2-Settings` and their `Connection` tokens dropped), put back in front
 * of the bytes that followed it (a body, pipelined requests), and the connection is
 * handed to Node's HTTP handling anew: bodies, keep-alive and the mesh's stages work as
 * for any request.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';

/** The protocols a listener tunnels (everything else is served as HTTP/1.1). */
const TUNNELED_PROTOCOLS: ReadonlySet<string> = new Set(['websocket']);

/** Request headers that only exist for the upgrade. */
const UPGRADE_ONLY: ReadonlySet<string> = new Set(['upgrade', 'http2-settings']);

/** Whether `req` asks for a protocol the listener tunnels (WebSocket). */
export function wantsTunnel(req: http.IncomingMessage): boolean {
  return tokens(req.headers.upgrade).some((token) => TUNNELED_PROTOCOLS.has(token));
}

/** Node's connection handler of HTTP servers (`https` uses the same one). */
const connectionListener = (http as unknown as { _connectionListener?: unknown })
  ._connectionListener as ((this: http.Server, socket: Duplex) => void) | undefined;

/**
 * Serves `req` on `server` as a plain HTTP/1.1 request: its head without the upgrade,
 * then `head` (what followed it on the connection), then the rest of the connection.
 */
export function serveWithoutUpgrade(
  server: http.Server,
  req: http.IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  if (!connectionListener) return void socket.destroy();
  socket.unshift(Buffer.concat([Buffer.from(headWithoutUpgrade(req), 'latin1'), head]));
  connectionListener.call(server, socket);
}

/** The request head of `req` as it was sent, less the headers of the upgrade. */
export function headWithoutUpgrade(req: http.IncomingMessage): string {
  const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (UPGRADE_ONLY.has(lower)) continue;
    if (lower === 'connection') {
      const kept = tokens(raw[i + 1]).filter((token) => !UPGRADE_ONLY.has(token));
      if (kept.length > 0) lines.push(`${name}: ${kept.join(', ')}`);
      continue;
    }
    lines.push(`${name}: ${raw[i + 1]}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** The lower-cased tokens of a comma-separated header. */
function tokens(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value.join(',') : value)
    .split(',')
    .map((token) => token.trim().toLowerCase())
    .filter(Boolean);
}
