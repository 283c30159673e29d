/**
 * `npx tsx bench/burst.ts <port> [n]`: sends `n` (32) concurrent GETs to 127.0.0.1:<port>
 * from a fresh undici pool of `n` connections, and prints the median and the longest
 * time one took, and the whole burst's. Run it against a mesh's outbound listener after
 * an idle pause and again straight after, to see what making the hop's connections again
 * costs (docs/benchmarks.md, 2026-11-30).
 */
import { Pool } from 'undici';

const port = Number(process.argv[2]);
const count = Number(process.argv[3] ?? 32);
if (!Number.isInteger(port) || port <= 0 || !Number.isInteger(count) || count <= 0) {
  console.error('usage: npx tsx bench/burst.ts <port> [concurrent calls, default 32]');
  process.exit(2);
}
const pool = new Pool(`http://127.0.0.1:${port}`, { connections: count });
const started = performance.now();
const times = await Promise.all(
  Array.from({ length: count }, async () => {
    const sent = performance.now();
    const response = await pool.request({ path: '/', method: 'GET' });
    await response.body.dump();
    return performance.now() - sent;
  }),
);
times.sort((a, b) => a - b);
console.log(
  `${count} calls: median ${times[count >> 1]!.toFixed(1)} ms, max ${times[count - 1]!.toFixed(1)} ms, burst ${(performance.now() - started).toFixed(1)} ms`,
);
await pool.close();
