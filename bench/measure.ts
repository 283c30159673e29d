/**
 * The two measurements of every scenario: maximum throughput (wrk when installed, else
 * autocannon as a library) and latency at a fixed rate (an open-loop sender in its own
 * process, corrected for coordinated omission, percentiles from an HDR histogram).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import path from 'node:path';

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
    const threads = String(Math.min(2, connections));
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

/** Latency at a fixed rate, ms: from each request's due time (coordinated omission corrected). */
export interface Latency {
  p50: number;
  p99: number;
  p999: number;
  max: number;
  /** The same from each request's send time: what the servers took. */
  service: { p50: number; p99: number; p999: number };
  sent: number;
  errors: number;
}

/**
 * Latency at a fixed open-loop `rate` for `seconds`, measured by `bench/open-loop.mjs` in a
 * process of its own (not the proxy's, not the upstream's; see that file).
 */
export async function latencyAtRate(
  url: string,
  rate: number,
  seconds: number,
  headers: Record<string, string> = {},
): Promise<Latency> {
  const script = path.resolve(import.meta.dirname, 'open-loop.mjs');
  const headerArgs = Object.entries(headers).map(([name, value]) => `${name}:${value}`);
  const { stdout } = await run(
    process.execPath,
    [script, url, String(rate), String(seconds), ...headerArgs],
    { timeout: (seconds + 60) * 1000 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Latency;
}
