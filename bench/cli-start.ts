/**
 * How fast the CLI answers: the median wall time of `meshdev <args>` over several runs,
 * beside bare `node -e 0` measured in the same run (so the ratio means something on a
 * noisy machine). A timing loop of child processes; each run is a fresh Node process.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'meshdev.js');

/** One measured command: its median seconds and its ratio to bare node. */
export interface CliTiming {
  command: string;
  seconds: number;
  timesNode: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function time(args: string[], runs: number, cwd: string): number {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    spawnSync(process.execPath, args, { cwd, stdio: 'ignore' });
    samples.push(Number(process.hrtime.bigint() - started) / 1e9);
  }
  return median(samples);
}

/** Times each `meshdev` command line (run in `cwd`, the repo with the demo config). */
export function cliStartTimes(commands: string[][], runs: number, cwd: string): CliTiming[] {
  const node = time(['-e', '0'], runs, cwd);
  return [
    { command: 'node -e 0 (baseline)', seconds: node, timesNode: 1 },
    ...commands.map((args) => {
      const seconds = time([BIN, ...args], runs, cwd);
      return { command: `meshdev ${args.join(' ')}`, seconds, timesNode: seconds / node };
    }),
  ];
}
