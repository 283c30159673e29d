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

/**
 * Sends `payload` as it is (several pipelined requests, say) and reads until the server
 * closes; returns every response, in order.
 */
export function rawExchange(
  port: number,
  payload: string,
  timeoutMs = 10_000,
): Promise<RawResponse[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server did not close within ${timeoutMs}ms: ${JSON.stringify(text)}`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(payload));
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      const responses: RawResponse[] = [];
      let rest = text;
      while (rest.startsWith('HTTP/1.1 ')) {
        const headEnd = rest.indexOf('\r\n\r\n');
        const head = parse(`${rest.slice(0, headEnd)}\r\n\r\n`);
        rest = rest.slice(headEnd + 4);
        let body: string;
        if (head.headers['transfer-encoding'] === 'chunked') {
          const end = rest.startsWith('0\r\n\r\n') ? 5 : rest.indexOf('\r\n0\r\n\r\n') + 7;
          body = dechunk(rest.slice(0, end));
          rest = rest.slice(end);
        } else {
          const length = Number(head.headers['content-length'] ?? 0);
          body = rest.slice(0, length);
          rest = rest.slice(length);
        }
        responses.push({ ...head, body: Buffer.from(body, 'latin1').toString('utf8') });
      }
      resolve(responses);
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
    // Read as bytes (latin1), told as text: bodies are UTF-8 (`→` in a listener's name).
    body: Buffer.from(
      headers['transfer-encoding'] === 'chunked' ? dechunk(raw) : raw,
      'latin1',
    ).toString('utf8'),
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
