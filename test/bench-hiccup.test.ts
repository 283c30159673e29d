import { spawn } from 'node:child_process';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  describeHiccups,
  machineHiccups,
  stallsPerSecond,
  type CoreHiccups,
} from '../bench/hiccup.js';
import { buildNative } from '../bench/measure.js';

// bench/hiccup.c is the bench's measure of the machine's own stalls: a busy loop that times
// the gaps between its clock reads. A gap is time it did not run, whoever took the core.

function built(): string | { skip: string } {
  try {
    return buildNative('hiccup.c');
  } catch (error) {
    return { skip: (error as Error).message };
  }
}

const binary = built();
const skip = typeof binary === 'string' ? undefined : binary.skip;
if (skip) console.warn(`skipped: ${skip} (apt-get install gcc)`);

/** Runs the loop for `seconds`, stopped (SIGSTOP) for `stopMs` from `atMs` on. */
async function runStopped(seconds: number, atMs: number, stopMs: number): Promise<CoreHiccups> {
  const child = spawn(binary as string, [String(seconds)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  await new Promise((resolve) => setTimeout(resolve, atMs));
  child.kill('SIGSTOP');
  await new Promise((resolve) => setTimeout(resolve, stopMs));
  child.kill('SIGCONT');
  expect(await exited).toBe(0);
  return JSON.parse(out) as CoreHiccups;
}

describe.skipIf(skip)('the machine stall meter (bench/hiccup.c)', () => {
  it('sees a stall made on purpose: the time it was stopped is one gap', async () => {
    const found = await runStopped(2, 300, 300);
    expect(found.seconds).toBe(2);
    // Stopped for ~300 ms (timers may fire a little early, the signal lands a little late):
    // one gap near that long, far past any the machine makes by itself (~10 ms here).
    expect(found.max_ms).toBeGreaterThanOrEqual(200);
    expect(found.max_ms).toBeLessThan(2_000);
    expect(found.over_5ms).toBeGreaterThanOrEqual(1);
    expect(found.lost_ms).toBeGreaterThanOrEqual(found.max_ms);
  });

  it('runs one loop per core at once and reports each', async () => {
    const cores = await machineHiccups(0.3);
    expect(cores).toHaveLength(os.availableParallelism());
    for (const core of cores) {
      expect(core.seconds).toBeCloseTo(0.3);
      // Each bound counts the gaps over it, so the counts fall as the bound rises.
      expect(core.over_0_5ms).toBeGreaterThanOrEqual(core.over_1ms);
      expect(core.over_1ms).toBeGreaterThanOrEqual(core.over_2ms);
      expect(core.over_2ms).toBeGreaterThanOrEqual(core.over_5ms);
      expect(core.lost_ms).toBeGreaterThanOrEqual(core.max_ms > 0.1 ? core.max_ms : 0);
    }
    expect(describeHiccups(cores)).toMatch(/over 1 ms.*longest/);
  });

  it('refuses a run with no length or one over ten minutes', async () => {
    for (const seconds of ['0', '601', 'x']) {
      const child = spawn(binary as string, [seconds], { stdio: 'ignore' });
      expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(2);
    }
  });
});

describe('stalls per second across cores', () => {
  const core = (over1: number, seconds = 10): CoreHiccups => ({
    seconds,
    over_0_5ms: over1,
    over_1ms: over1,
    over_2ms: 0,
    over_5ms: 0,
    max_ms: 1.5,
    lost_ms: over1 * 1.5,
  });

  it('is one figure for one core or equal cores, a range otherwise', () => {
    expect(stallsPerSecond([core(24)])).toBe('2.4');
    expect(stallsPerSecond([core(24), core(12, 5)])).toBe('2.4');
    expect(stallsPerSecond([core(28), core(24)])).toBe('2.4–2.8');
  });
});
