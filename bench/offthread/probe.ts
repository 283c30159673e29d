/**
 * `npx tsx bench/offthread/probe.ts`: what checking response bodies off the data plane's
 * thread would cost the thread that serves calls — a probe for the contracts target, not a
 * target itself. The body is the bench JSON service's (16 items, ~0.9 KiB), the schema the
 * bench spec's, compiled by ajv as meshdev compiles it. Three ways, in alternating rounds
 * (ABBA, so a slow moment of a shared machine hits all of them):
 *
 * - `here`: `JSON.parse` and the validator on this thread (what `contracts: report` does);
 * - `worker, one message each`: a copy of the bytes posted to a worker thread that parses
 *   and validates;
 * - `worker, batched`: the copies of one event-loop turn posted as one message.
 *
 * It prints this thread's time per body (sending only, for the worker ways) and how long the
 * whole batch took until the worker had checked every body, both as ratios to `here`.
 */
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { ITEMS_BODY, ITEMS_SCHEMA } from '../items-spec.js';
import { makeCheck } from './body-check.mjs';

const BODIES = 20_000;
const ROUNDS = 6;
const BATCH = 16;

const body = Buffer.from(ITEMS_BODY);
const schema = ITEMS_SCHEMA;

const check = makeCheck(schema);

/** A worker that checks what it is sent (`check-worker.mjs`). */
function startWorker(): Worker {
  return new Worker(new URL('./check-worker.mjs', import.meta.url), { workerData: { schema } });
}

interface Result {
  /** This thread's time per body, µs. */
  thread: number;
  /** Until every body was checked, µs per body. */
  done: number;
}

async function here(): Promise<Result> {
  const start = performance.now();
  let passed = 0;
  for (let i = 0; i < BODIES; i++) if (check(body)) passed++;
  if (passed !== BODIES) throw new Error('the body did not pass its own schema');
  const micros = ((performance.now() - start) * 1000) / BODIES;
  return { thread: micros, done: micros };
}

async function inWorker(worker: Worker, batch: number): Promise<Result> {
  worker.postMessage({ expect: BODIES });
  const finished = new Promise((resolve) => worker.once('message', resolve));
  const start = performance.now();
  let sending = 0;
  for (let sent = 0; sent < BODIES; sent += batch) {
    // One event-loop turn's bodies, as a data plane would collect them.
    const turnStart = performance.now();
    const copies = Array.from({ length: Math.min(batch, BODIES - sent) }, () => Buffer.from(body));
    worker.postMessage(batch === 1 ? copies[0] : copies);
    sending += performance.now() - turnStart;
    if (sent % (batch * 64) === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await finished;
  return {
    thread: (sending * 1000) / BODIES,
    done: ((performance.now() - start) * 1000) / BODIES,
  };
}

const single = startWorker();
const batched = startWorker();
const ways = {
  here: () => here(),
  'worker, one message each': () => inWorker(single, 1),
  [`worker, batched by ${BATCH}`]: () => inWorker(batched, BATCH),
};
const results = new Map<string, Result[]>(Object.keys(ways).map((name) => [name, []]));
// Warm-up (JIT, the workers' validators), then ABBA rounds.
for (const run of Object.values(ways)) await run();
const order = Object.entries(ways);
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of round % 2 === 0 ? order : [...order].reverse())
    results.get(name)!.push(await run());
}
await Promise.all([single.terminate(), batched.terminate()]);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
const base = results.get('here')!;
console.log(
  `${BODIES} bodies of ${body.length} bytes a round, ${ROUNDS} rounds, medians (ratios to checking here)`,
);
for (const [name, rounds] of results) {
  const thread = median(rounds.map((r) => r.thread));
  const done = median(rounds.map((r) => r.done));
  const threadRatio = median(rounds.map((r, i) => r.thread / base[i]!.thread));
  console.log(
    `${name.padEnd(28)} this thread ${thread.toFixed(2)} µs/body (×${threadRatio.toFixed(2)}), all checked ${done.toFixed(2)} µs/body`,
  );
}
