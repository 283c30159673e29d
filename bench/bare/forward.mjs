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

/** A request handler forwarding everything to `pool`. */
export function forwardTo(pool) {
  return async (req, res) => {
    try {
      const hasBody =
        req.headers['content-length'] !== undefined ||
        req.headers['transfer-encoding'] !== undefined;
      const upstream = await pool.request({
        method: req.method,
        path: req.url,
        headers: strip(req.headers),
        body: hasBody ? req : undefined,
      });
      res.writeHead(upstream.statusCode, strip(upstream.headers));
      upstream.body.pipe(res);
    } catch {
      res.writeHead(502);
      res.end();
    }
  };
}

// Stopped by the bench with SIGTERM (SIGINT by hand): exit, so `--cpu-prof` writes its profile.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
