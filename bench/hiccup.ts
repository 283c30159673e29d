/**
 * How often the machine itself takes a core away: `bench/hiccup.c` (a busy loop timing the
 * gaps between its own clock reads, as jHiccup does) run on every core at once, each copy
 * pinned to its core with `taskset` where it is installed. The full run prints it beside
 * the ≤ 1 ms added-p99 targets: a core gone for more than a millisecond several times a
 * second delays calls of every process on it, C or Node, by that much — the floor under
 * any p99 this machine can show. `npx tsx bench/hiccup.ts [seconds=10]` runs it alone.
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildNative, which } from './measure.js';

const run = promisify(execFile);

/** One core's stalls over the measurement (counts of gaps longer than each bound). */
export interface CoreHiccups {
  /** The core the loop was pinned to; undefined where `taskset` is missing. */
  core?: number;
  seconds: number;
  over_0_5ms: number;
  over_1ms: number;
  over_2ms: number;
  over_5ms: number;
  max_ms: number;
  /** The gaps over 0.1 ms, added up. */
  lost_ms: number;
}

/**
 * One busy loop per core for `seconds`, all at once (nothing else should run meanwhile:
 * the loops fill every core, so they measure what the machine takes, not what a
 * neighbour in the same run does). Throws where `bench/hiccup.c` does not build.
 */
export async function machineHiccups(seconds: number): Promise<CoreHiccups[]> {
  const binary = buildNative('hiccup.c');
  const taskset = which('taskset');
  const cores = os.availableParallelism();
  return Promise.all(
    Array.from({ length: cores }, async (_, core) => {
      const [command, args] = taskset
        ? [taskset, ['-c', String(core), binary, String(seconds)]]
        : [binary, [String(seconds)]];
      const { stdout } = await run(command, args, { timeout: (seconds + 30) * 1000 });
      const found = JSON.parse(stdout.trim()) as CoreHiccups;
      return taskset ? { core, ...found } : found;
    }),
  );
}

/** One line for a report: each core's stalls over 1 ms and 2 ms per second, and the longest. */
export function describeHiccups(cores: readonly CoreHiccups[]): string {
  const perSecond = (count: number, seconds: number) => (count / seconds).toFixed(1);
  return cores
    .map(
      (c, index) =>
        `${c.core === undefined ? `loop ${index + 1}` : `core ${c.core}`}: ${perSecond(c.over_1ms, c.seconds)}/s over 1 ms, ${perSecond(c.over_2ms, c.seconds)}/s over 2 ms, longest ${c.max_ms.toFixed(1)} ms`,
    )
    .join('; ');
}

/** Stalls over 1 ms per second across the cores: `2.4` for one core, `2.4–2.8` for several. */
export function stallsPerSecond(cores: readonly CoreHiccups[]): string {
  const rates = cores.map((c) => c.over_1ms / c.seconds).sort((a, b) => a - b);
  const low = rates[0]!.toFixed(1);
  const high = rates.at(-1)!.toFixed(1);
  return low === high ? low : `${low}–${high}`;
}

// Run as a script (not imported by the full run).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const seconds = Number(process.argv[2] ?? 10);
  if (!(seconds > 0 && seconds <= 600)) {
    console.error('usage: npx tsx bench/hiccup.ts [seconds=10] (at most 600)');
    process.exit(2);
  }
  const cores = await machineHiccups(seconds);
  console.log(
    `the machine's own stalls over ${seconds} s, a busy loop per core: ${describeHiccups(cores)}`,
  );
}
