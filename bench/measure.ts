/**
 * The two measurements of every scenario: maximum throughput (wrk when installed, else
 * autocannon as a library) and latency at a fixed rate (an open-loop sender in its own
 * process, corrected for coordinated omission, percentiles from an HDR histogram).
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
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

/** `bench/open-loop.mjs`: undici in a Node process, always there. */
export function javascriptSender(): Sender {
  return {
    name: 'javascript (undici)',
    command: process.execPath,
    args: [path.resolve(import.meta.dirname, 'open-loop.mjs')],
  };
}

/**
 * `bench/open-loop.c` built with `cc` into `bench/results/`, once per version of its
 * source; throws (with the compiler's first line) where `cc` or libcurl's headers are
 * missing (Debian: `apt-get install gcc libcurl4-openssl-dev`).
 */
export function nativeSender(): Sender {
  return { name: 'native (C, libcurl)', command: buildNative('open-loop.c', ['-lcurl']), args: [] };
}

/**
 * The program of the C file `source` (in `bench/`) built with `cc` into `bench/results/`,
 * once per version of its source: its path. Throws with the compiler's first line where it
 * does not build.
 */
export function buildNative(source: string, libraries: readonly string[] = []): string {
  const file = path.resolve(import.meta.dirname, source);
  const hash = createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 12);
  const binary = path.resolve(
    import.meta.dirname,
    'results',
    `${path.basename(source, '.c')}-${hash}`,
  );
  if (!existsSync(binary)) {
    mkdirSync(path.dirname(binary), { recursive: true });
    // Built under a temporary name and renamed: two runs building at once never run half a file.
    const building = `${binary}.${process.pid}`;
    try {
      execFileSync('cc', ['-O2', '-o', building, file, ...libraries], { stdio: 'pipe' });
    } catch (error) {
      const why = String((error as { stderr?: Buffer }).stderr ?? error).split('\n')[0];
      throw new Error(`bench/${source} did not build: ${why}`);
    }
    renameSync(building, binary);
  }
  return binary;
}

/**
 * The sender for `latencyAtRate`, decided once per run: the native one (libcurl's multi
 * interface, no JavaScript in the timing path) where it builds, else the JavaScript one,
 * whose own event loop adds milliseconds at p99 on a 2-core machine — and the run says so.
 */
export function latencySender(): Sender {
  if (sender) return sender;
  try {
    sender = nativeSender();
  } catch (error) {
    process.stderr.write(
      `  latency sender: ${(error as Error).message}; using bench/open-loop.mjs — install gcc and libcurl4-openssl-dev for the native one\n`,
    );
    sender = javascriptSender();
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
): Promise<{ rps: number; requests: number; tool: string; errors: number }> {
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
    const requests = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 0);
    const errors = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
    return { rps, requests, tool: 'wrk', errors };
  }
  const result = await autocannon({ url, connections, duration: seconds, headers });
  return {
    rps: result.requests.average,
    requests: result.requests.total,
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
  /** What failed the calls that did: "179 × status 503, 2 × Timeout was reached". */
  failures: string;
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
  { command, args }: Sender = latencySender(),
): Promise<Latency> {
  const headerArgs = Object.entries(headers).map(([name, value]) => `${name}:${value}`);
  const { stdout } = await run(
    command,
    [...args, url, String(rate), String(seconds), ...headerArgs],
    { timeout: (seconds + 60) * 1000 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Latency;
}

let clockTicks: number | undefined;

/**
 * Clock ticks per second of `/proc/<pid>/stat` times (Linux's USER_HZ, 100 nearly
 * everywhere), asked once, when first needed.
 */
function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/**
 * CPU seconds (user + system) `pid` has used so far, from `/proc` (Linux); undefined where
 * there is no `/proc` or the process is gone.
 */
export function cpuSeconds(pid: number | undefined): number | undefined {
  return pid === undefined ? undefined : statCpuSeconds(`/proc/${pid}/stat`);
}

/**
 * CPU seconds the main thread of `pid` has used so far (its serving thread: worker
 * threads, GC helpers and libuv's pool left out); undefined as for `cpuSeconds`.
 */
export function mainThreadCpuSeconds(pid: number | undefined): number | undefined {
  return pid === undefined ? undefined : statCpuSeconds(`/proc/${pid}/task/${pid}/stat`);
}

function statCpuSeconds(file: string): number | undefined {
  try {
    const stat = readFileSync(file, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3: utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond();
  } catch {
    return undefined;
  }
}

/** The path of `binary` on PATH (or `binary` itself when it is a path that runs), else undefined. */
export function which(binary: string): string | undefined {
  try {
    return (
      execFileSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' }).trim() || undefined
    );
  } catch {
    return undefined;
  }
}

/** The median of `values` (the upper one of an even count); `values` is left as it is. */
export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}
