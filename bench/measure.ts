/**
 * The two measurements of every scenario: maximum throughput (wrk when installed, else
 * autocannon as a library) and latency at a fixed rate (an open-loop sender in its own
 * process, corrected for coordinated omission, percentiles from an HDR histogram).
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import path from 'node:path';

const run = promisify(execFile);

/** The latency sender a run uses: the native one when it builds here, else the JavaScript one. */
export interface Sender {
  name: 'native (C, libcurl)' | 'javascript (undici)';
  command: string;
  args: string[];
}

let sender: Sender | undefined;

/**
 * The sender for `latencyAtRate`, decided once per run. `bench/open-loop.c` (libcurl's multi
 * interface, no JavaScript in the timing path) is built with `cc` into `bench/results/`,
 * once per version of its source; where `cc` or libcurl's headers are missing (Debian:
 * `apt-get install gcc libcurl4-openssl-dev`) the run falls back to `bench/open-loop.mjs`,
 * whose own event loop adds milliseconds at p99 on a 2-core machine, and says so.
 */
export function latencySender(): Sender {
  if (sender) return sender;
  const source = path.resolve(import.meta.dirname, 'open-loop.c');
  const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 12);
  const binary = path.resolve(import.meta.dirname, 'results', `open-loop-${hash}`);
  try {
    if (!existsSync(binary)) {
      mkdirSync(path.dirname(binary), { recursive: true });
      execFileSync('cc', ['-O2', '-o', binary, source, '-lcurl'], { stdio: 'pipe' });
    }
    sender = { name: 'native (C, libcurl)', command: binary, args: [] };
  } catch (error) {
    const why = String((error as { stderr?: Buffer }).stderr ?? error).split('\n')[0];
    process.stderr.write(
      `  latency sender: bench/open-loop.c did not build (${why}); using bench/open-loop.mjs — install gcc and libcurl4-openssl-dev for the native one\n`,
    );
    sender = {
      name: 'javascript (undici)',
      command: process.execPath,
      args: [path.resolve(import.meta.dirname, 'open-loop.mjs')],
    };
  }
  return sender;
}

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
 * Latency at a fixed open-loop `rate` for `seconds`, measured by the run's `latencySender()`
 * in a process of its own (not the proxy's, not the upstream's; see `bench/open-loop.c`).
 */
export async function latencyAtRate(
  url: string,
  rate: number,
  seconds: number,
  headers: Record<string, string> = {},
): Promise<Latency> {
  const { command, args } = latencySender();
  const headerArgs = Object.entries(headers).map(([name, value]) => `${name}:${value}`);
  const { stdout } = await run(
    command,
    [...args, url, String(rate), String(seconds), ...headerArgs],
    { timeout: (seconds + 60) * 1000 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Latency;
}
