/**
 * How fast the CLI answers: the median wall time of `meshdev <args>` over several runs,
 * beside bare `node -e 0` measured in the same run (so the ratio means something on a
 * noisy machine). hyperfine when it is installed (Debian package `hyperfine`), else a
 * timing loop of child processes; each run is a fresh Node process. Also: how long `up`
 * takes to its ready line once the CA exists.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { median } from './measure.js';

const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'meshdev.js');

/** One measured command: its median seconds and its ratio to bare node. */
export interface CliTiming {
  command: string;
  seconds: number;
  timesNode: number;
}

function timeLoop(args: string[], runs: number, cwd: string): number {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    spawnSync(process.execPath, args, { cwd, stdio: 'ignore' });
    samples.push(Number(process.hrtime.bigint() - started) / 1e9);
  }
  return median(samples);
}

/** Medians of each command line by hyperfine (`-N`: no shell in between). */
function timeHyperfine(hyperfine: string, lines: string[][], runs: number, cwd: string): number[] {
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'meshdev-hyperfine-')), 'times.json');
  const quote = (arg: string) => (/^[\w./=@:-]+$/.test(arg) ? arg : `'${arg}'`);
  execFileSync(
    hyperfine,
    [
      '-N',
      '-i',
      '--warmup',
      '1',
      '--runs',
      String(runs),
      '--export-json',
      out,
      ...lines.map((args) => [process.execPath, ...args].map(quote).join(' ')),
    ],
    { cwd, stdio: 'ignore' },
  );
  const { results } = JSON.parse(readFileSync(out, 'utf8')) as {
    results: Array<{ median: number }>;
  };
  return results.map((result) => result.median);
}

/** Times each `meshdev` command line (run in `cwd`, a project whose mesh is running). */
export function cliStartTimes(
  commands: string[][],
  runs: number,
  cwd: string,
  hyperfine?: string,
): { tool: string; rows: CliTiming[] } {
  const lines = [['-e', '0'], ...commands.map((args) => [BIN, ...args])];
  const seconds = hyperfine
    ? timeHyperfine(hyperfine, lines, runs, cwd)
    : lines.map((args) => timeLoop(args, runs, cwd));
  const node = seconds[0]!;
  return {
    tool: hyperfine ? 'hyperfine' : 'timing loop',
    rows: [
      { command: 'node -e 0 (baseline)', seconds: node, timesNode: 1 },
      ...commands.map((args, i) => ({
        command: `meshdev ${args.join(' ')}`,
        seconds: seconds[i + 1]!,
        timesNode: seconds[i + 1]! / node,
      })),
    ],
  };
}

/**
 * Median seconds of `meshdev validate` in `cwd` with its spec cache emptied before each
 * run: what the first `validate` after a spec changed takes.
 */
export function coldValidateSeconds(cwd: string, runs: number): number {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    rmSync(path.join(cwd, '.meshdev', 'cache', 'openapi'), { recursive: true, force: true });
    const started = process.hrtime.bigint();
    spawnSync(process.execPath, [BIN, 'validate'], { cwd, stdio: 'ignore' });
    samples.push(Number(process.hrtime.bigint() - started) / 1e9);
  }
  return median(samples);
}

/**
 * Seconds from starting `meshdev up --json --no-load` in `cwd` to its ready line, median
 * of `runs` (after one run that creates the CA and certificates, which is not counted).
 */
export async function upReadySeconds(cwd: string, runs: number): Promise<number> {
  const once = () =>
    new Promise<number>((resolve, reject) => {
      const started = performance.now();
      const child = spawn(
        process.execPath,
        [BIN, 'up', '--json', '--quiet', '--no-load', '--summary-interval', '0'],
        { cwd, stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, CI: 'true' } },
      );
      let buffer = '';
      let ready: number | undefined;
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        if (ready === undefined && buffer.includes('"event":"ready"')) {
          ready = (performance.now() - started) / 1000;
          child.kill('SIGINT');
        }
      });
      child.on('exit', () =>
        ready === undefined ? reject(new Error('meshdev up exited before ready')) : resolve(ready),
      );
    });
  await once();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) samples.push(await once());
  return median(samples);
}
