// A bare forwarder written by hand with the project's own undici: the hop's baseline.
// `node bench/bare/forwarder.mjs <target-port>` prints `PORT n` when it listens.
import http from 'node:http';
import { Pool } from 'undici';

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
const target = Number(process.argv[2]);
const pool = new Pool(`http://127.0.0.1:${target}`, { keepAliveTimeout: 30_000, pipelining: 1 });

function strip(headers) {
  const out = {};
  for (const name in headers) if (!HOP_BY_HOP.has(name)) out[name] = headers[name];
  return out;
}

const server = http.createServer(async (req, res) => {
  try {
    const hasBody =
      req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
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
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(`PORT ${server.address().port}`));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
