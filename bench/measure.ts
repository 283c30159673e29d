/**
 * The two measurements of every scenario: maximum throughput (wrk when installed, else
 * autocannon as a library) and latency at a fixed rate (an open-loop sender timing each
 * request with performance.now(), percentiles from an HDR histogram in microseconds).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { build } from 'hdr-histogram-js';
import { Pool } from 'undici';

const run = promisify(execFile);

/** Requests per second at `connections` for `seconds`. */
export async function throughput(
  url: string,
  connections: number,
  seconds: number,
  wrk?: string,
  headers: Record<string, string> = {},
): Promise<{ rps: number; tool: string; errors: number }> {
  if (wrk) {
    const threads = '2';
    const headerArgs = Object.entries(headers).flatMap(([name, value]) => [
      '-H',
      `${name}: ${value}`,
    ]);
    const { stdout } = await run(
      wrk,
      ['-t', threads, '-c', String(connections), '-d', `${seconds}s`, ...headerArgs, url],
      { timeout: (seconds + 30) * 1000 },
    );
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? 0);
    const errors = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
    return { rps, tool: 'wrk', errors };
  }
  const result = await autocannon({ url, connections, duration: seconds, headers });
  return {
    rps: result.requests.average,
    tool: 'autocannon',
    errors: result.non2xx + result.errors,
  };
}

/** Latency percentiles (ms) at a fixed open-loop `rate` for `seconds`. */
export async function latencyAtRate(
  url: string,
  rate: number,
  seconds: number,
  headers: Record<string, string> = {},
): Promise<{ p50: number; p99: number; sent: number; errors: number }> {
  const { origin, pathname: bare, search } = new URL(url);
  const pathname = `${bare}${search}`;
  const pool = new Pool(origin, { connections: 64 });
  const histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  // Warm the connections so the first requests do not pay for connect.
  await Promise.all(
    Array.from({ length: 16 }, () =>
      pool.request({ path: pathname, method: 'GET', headers }).then((r) => r.body.dump()),
    ),
  );
  const total = rate * seconds;
  let sent = 0;
  let errors = 0;
  const pending: Promise<void>[] = [];
  const started = performance.now();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1000));
      while (sent < due) {
        sent++;
        const at = performance.now();
        pending.push(
          pool
            .request({ path: pathname, method: 'GET', headers })
            .then(async (response) => {
              await response.body.dump();
              if (response.statusCode !== 200) errors++;
              histogram.recordValue(Math.max(1, Math.round((performance.now() - at) * 1000)));
            })
            .catch(() => void errors++),
        );
      }
      if (sent >= total) return resolve();
      setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(pending);
  await pool.close();
  return {
    p50: histogram.getValueAtPercentile(50) / 1000,
    p99: histogram.getValueAtPercentile(99) / 1000,
    sent,
    errors,
  };
}
