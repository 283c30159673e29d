import { randomFillSync, randomUUID } from 'node:crypto';

// What both bare baselines do per request: forward it with an undici pool, hop-by-hop
// headers dropped, the body piped back — nothing else (no policy, no telemetry).
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'host',
]);

function strip(headers) {
  const out = {};
  for (const name in headers) if (!HOP_BY_HOP.has(name)) out[name] = headers[name];
  return out;
}

/**
 * The headers a meshdev hop adds, as Envoy's do: x-forwarded-for/proto/host, a new
 * W3C `traceparent` and `x-request-id` on the way in, `x-meshdev-attempts` on the way out.
 */
// Random bytes drawn 4 KiB at a time, as meshdev draws them.
const pool = Buffer.alloc(4096);
let offset = pool.length;
function randomHex(bytes) {
  if (offset + bytes > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  offset += bytes;
  return pool.toString('hex', offset - bytes, offset);
}

function addMeshHeaders(req, headers) {
  headers['x-forwarded-for'] = req.socket.remoteAddress;
  headers['x-forwarded-proto'] = 'http';
  if (req.headers.host) headers['x-forwarded-host'] = req.headers.host;
  headers.traceparent = `00-${randomHex(16)}-${randomHex(8)}-01`;
  headers['x-request-id'] = randomUUID();
}

/**
 * A request handler forwarding everything to `pool`; with `meshHeaders`, it also adds the
 * headers a meshdev hop adds (so the bench can tell their cost from the pipeline's).
 */
export function forwardTo(pool, { meshHeaders = false } = {}) {
  return async (req, res) => {
    try {
      const hasBody =
        req.headers['content-length'] !== undefined ||
        req.headers['transfer-encoding'] !== undefined;
      const headers = strip(req.headers);
      if (meshHeaders) addMeshHeaders(req, headers);
      const upstream = await pool.request({
        method: req.method,
        path: req.url,
        headers,
        body: hasBody ? req : undefined,
      });
      const answer = strip(upstream.headers);
      if (meshHeaders) answer['x-meshdev-attempts'] = '1';
      res.writeHead(upstream.statusCode, answer);
      upstream.body.pipe(res);
    } catch {
      res.writeHead(502);
      res.end();
    }
  };
}

// Stopped by the bench with SIGTERM (SIGINT by hand): exit, so `--cpu-prof` writes its profile.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
