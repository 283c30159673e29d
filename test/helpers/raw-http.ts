/**
 * A raw HTTP/1.1 client for tests that must send what fetch and undici never would:
 * dot-segments, absolute-form targets, `OPTIONS *`, spoofed hop headers, handshakes.
 */
import net from 'node:net';

/** What came back: the status line's code, the head's headers, and the rest as text. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends `lines` (request line and headers, no trailing blank line) to 127.0.0.1:port and
 * reads until the server closes, or until the head of a 101 arrives.
 */
export function rawRequest(
  port: number,
  lines: string[],
  timeoutMs = 10_000,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${timeoutMs}ms: ${JSON.stringify(text)}`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(parse(text));
    };
    socket.on('connect', () => socket.write(`${lines.join('\r\n')}\r\n\r\n`));
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (/^HTTP\/1\.1 101 /.test(text) && text.includes('\r\n\r\n')) finish();
    });
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', (error) => {
      clearTimeout(timer);
      if (text) resolve(parse(text));
      else reject(error);
    });
  });
}

function parse(text: string): RawResponse {
  const headEnd = text.indexOf('\r\n\r\n');
  const head = headEnd < 0 ? text : text.slice(0, headEnd);
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const raw = headEnd < 0 ? '' : text.slice(headEnd + 4);
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0),
    headers,
    body: headers['transfer-encoding'] === 'chunked' ? dechunk(raw) : raw,
  };
}

/** Decodes a chunked body (enough for tests: sizes, data, trailers ignored). */
function dechunk(raw: string): string {
  let out = '';
  let rest = raw;
  for (;;) {
    const lineEnd = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, lineEnd), 16);
    if (!(size > 0)) return out;
    out += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    rest = rest.slice(lineEnd + 4 + size);
  }
}
