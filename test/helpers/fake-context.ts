/**
 * A hand-built hop context for stage unit tests: a real ServiceView from a tiny config,
 * a seeded generator and a manual clock. Not used by the mesh itself.
 */
import { Readable } from 'node:stream';
import { loadConfigText } from '../../src/config/load.js';
import type { HopContext, HopClock, Next, Outcome } from '../../src/dataplane/pipeline.js';
import { Cancel } from '../../src/lib/cancel.js';
import { seededRandom } from '../../src/lib/random.js';
import { MeshRuntime } from '../../src/dataplane/runtime.js';

/** A clock whose time moves only when something sleeps or the test advances it. */
export function manualClock(
  start = 1_000_000,
): HopClock & { advance(ms: number): void; slept: number[] } {
  let now = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    advance: (ms) => void (now += ms),
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

/** A runtime over a config whose `services:` section is `servicesYaml`. */
export function runtimeFor(servicesYaml: string, clock = manualClock()): MeshRuntime {
  const config = loadConfigText(
    `version: 1\nmesh: { name: unit, ports: { from: 0 } }\nservices:\n${servicesYaml}`,
    'unit.yaml',
    {
      env: {},
    },
  );
  return new MeshRuntime(config, () => clock.now());
}

/** A context for `service` of `runtime`, with overrides. */
export function fakeContext(
  runtime: MeshRuntime,
  service: string,
  overrides: Partial<HopContext> = {},
): HopContext {
  const client = new Cancel();
  const clock = overrides.clock ?? manualClock();
  return {
    caller: 'tester',
    startedAt: clock.now(),
    service: runtime.view(service)!,
    method: 'GET',
    path: '/',
    pathname: '/',
    headers: {},
    body: { kind: 'empty' },
    clientSignal: client,
    random: seededRandom(1),
    clock,
    routeTemplate: '/',
    routeIndex: -1,
    attemptSignal: client,
    attempts: 0,
    flags: new Set(),
    security: 'none',
    ...overrides,
  };
}

/** A `next` that answers with the given statuses in turn (the last one repeats). */
export function answers(...statuses: Array<number | 'reset'>): Next & { calls: number } {
  const next = (async () => {
    const status = statuses[Math.min(next.calls, statuses.length - 1)]!;
    next.calls++;
    if (status === 'reset') return { kind: 'reset', injected: false } satisfies Outcome;
    return {
      kind: 'response',
      status,
      headers: {},
      body: Readable.from([Buffer.from('ok')]),
    } satisfies Outcome;
  }) as Next & { calls: number };
  next.calls = 0;
  return next;
}
