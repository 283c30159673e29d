/**
 * Response bodies of `contracts: report` checked in a worker thread. Parsing and
 * validating a body is most of what a checked call costs the serving thread (the JSON
 * parser, its garbage, ajv). Here each body is copied into a ring of shared memory the
 * worker reads (`ByteRing`), and the bodies go in batches: one small message names a
 * batch's bodies, one answer names those that broke their contract. A batch goes when it
 * is `BATCH_WAIT_MS` old or `BATCH_BODIES` long: a message per body cost as much as the
 * check it moved (bench/offthread/probe.ts).
 *
 * Nothing is lost: if the worker cannot start or dies, the bodies waiting for it (still in
 * the ring) and every later one are checked on the serving thread. A worker that falls
 * behind cannot grow memory: when the ring is full, bodies are checked on the serving
 * thread, which slows it as the check used to.
 */
import { Worker } from 'node:worker_threads';
import type { BodyCheckAnswer, BodyCheckRequest, BodyCheckTarget } from './body-check-protocol.js';
import { ByteRing } from './byte-ring.js';
import { checkResponseBody } from './check-response.js';
import type { Contract } from './contract.js';
import type { MediaSpec } from './operations.js';
import { toPointer } from './pointer.js';
import type { Violation } from './violation.js';

/** Checks a delivered response body and hands its violations to `done` (now or later). */
export type BodyCheck = (
  contract: Contract,
  media: MediaSpec,
  contentType: string | undefined,
  body: Buffer,
  done: (violations: Violation[]) => void,
) => void;

/** What checks response bodies: on the calling thread, or in the contract worker. */
export interface BodyChecker {
  check: BodyCheck;
}

/** Checks on the calling thread, at once. */
export const inlineBodyChecks: BodyChecker = {
  check(contract, media, contentType, body, done) {
    done(checkResponseBody(contract, media, contentType, body));
  },
};

/** Bytes of bodies that can wait for the worker (the largest body checked is 1 MiB). */
export const RING_BYTES = 4 * 1024 * 1024;

/**
 * How long the first body of a batch waits for others (ms). A message costs the serving
 * thread a few microseconds; under load a batch carries tens of bodies, and a call's
 * record comes this much later.
 */
export const BATCH_WAIT_MS = 5;

/** A batch is sent at once when it holds this many bodies. */
export const BATCH_BODIES = 64;

/** Most content types (`application/json; charset=utf-8`…) remembered per declared media type. */
export const MAX_CONTENT_TYPES = 16;

/** A body in the ring, waiting for its check. */
interface Waiting {
  contract: Contract;
  media: MediaSpec;
  contentType: string | undefined;
  start: number;
  length: number;
  done: (violations: Violation[]) => void;
}

/** Where response bodies are being checked (`GET /v1/contracts` → `bodyChecks`). */
export interface BodyCheckStats {
  /** `running`, `not started` (no body yet), or why the worker is not used. */
  worker: string;
  /** Bodies the worker checked. */
  checkedInWorker: number;
  /** Bodies checked on the serving thread while the worker ran (the ring was full). */
  checkedHere: number;
  /** Bodies waiting for the worker's answer. */
  waiting: number;
}

/** Where the worker is started from, and the size of its ring. */
export interface OffThreadOptions {
  workerUrl?: URL;
  ringBytes?: number;
}

/** Bodies checked by a worker thread, sent in batches through shared memory. */
export class OffThreadBodyChecks implements BodyChecker {
  private worker: Worker | undefined;
  private ring: ByteRing | undefined;
  /** Why the worker is not used (it failed to start, died, or was closed): bodies are checked here. */
  failure: string | undefined;
  /** Bodies the worker checked. */
  checkedInWorker = 0;
  /** Bodies checked on this thread while the worker ran, because the ring was full. */
  checkedHere = 0;
  private nextBatch = 1;
  private nextId = 1;
  private readonly contractIds = new WeakMap<Contract, number>();
  /** Target ids by media spec, then by content type. */
  private readonly targetIds = new WeakMap<MediaSpec, Map<string | undefined, number>>();
  /** A contract no call can reach any more is dropped by the worker too. */
  private readonly release = new FinalizationRegistry<number>((id) =>
    this.post({ kind: 'forget', id }),
  );
  private queue: Waiting[] = [];
  private index: number[] = [];
  /** Batches sent and not answered, oldest first (the worker answers in order). */
  private readonly sent = new Map<number, Waiting[]>();
  private sentCount = 0;
  private timer: NodeJS.Timeout | undefined;
  private idleWaiters: Array<() => void> = [];
  private readonly workerUrl: URL;
  private readonly ringBytes: number;

  constructor(options: OffThreadOptions = {}) {
    this.workerUrl = options.workerUrl ?? defaultWorkerUrl();
    this.ringBytes = options.ringBytes ?? RING_BYTES;
  }

  /** Bodies sent or queued and not yet answered. */
  get waiting(): number {
    return this.queue.length + this.sentCount;
  }

  /** Where bodies are checked and how many, for the admin API. */
  stats(): BodyCheckStats {
    return {
      worker: this.worker ? 'running' : (this.failure ?? 'not started'),
      checkedInWorker: this.checkedInWorker,
      checkedHere: this.checkedHere,
      waiting: this.waiting,
    };
  }

  /** Queues the body for the worker (the serving thread when it cannot take it). */
  readonly check: BodyCheck = (contract, media, contentType, body, done) => {
    const target =
      media.schemaPath && this.started() && this.targetId(contract, media, contentType);
    const start = target ? this.ring!.reserve(body.length) : undefined;
    if (start === undefined) {
      if (this.worker && body.length > 0) this.checkedHere++;
      return inlineBodyChecks.check(contract, media, contentType, body, done);
    }
    this.ring!.bytes.set(body, start);
    this.queue.push({ contract, media, contentType, start, length: body.length, done });
    this.index.push(target as number, start, start + body.length);
    if (this.queue.length >= BATCH_BODIES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), BATCH_WAIT_MS);
  };

  /**
   * Resolves once every body handed over so far has been answered, or after `timeoutMs`
   * (the timer keeps the process alive meanwhile: the worker itself does not).
   */
  idle(timeoutMs = 5_000): Promise<void> {
    if (this.waiting === 0) return Promise.resolve();
    this.flush();
    return new Promise((resolve) => {
      const timer = setTimeout(finish, timeoutMs);
      function finish() {
        clearTimeout(timer);
        resolve();
      }
      this.idleWaiters.push(finish);
    });
  }

  /** Stops the worker; bodies still waiting are checked here first. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.failure ??= 'closed';
    this.checkWaitingHere();
    this.worker = undefined;
    await worker?.terminate();
  }

  /** True when the worker runs (started now if it was not). */
  private started(): boolean {
    if (this.worker) return true;
    if (this.failure) return false;
    try {
      this.ring = new ByteRing(this.ringBytes);
      this.worker = startWorker(this.workerUrl, this.ring.shared);
    } catch (error) {
      this.failure = `the contract worker did not start: ${(error as Error).message}`;
      return false;
    }
    this.worker.on('message', (answer: BodyCheckAnswer) => this.answered(answer));
    this.worker.on('error', (error) => this.lost(`the contract worker failed: ${error.message}`));
    this.worker.on('exit', (code) => this.lost(`the contract worker exited (${code})`));
    // Checking bodies must not keep a process alive that has nothing else to do (after
    // the listeners: adding a 'message' listener refs the worker's port again).
    this.worker.unref();
    return true;
  }

  private post(message: BodyCheckRequest): void {
    this.worker?.postMessage(message);
  }

  /**
   * The id of what `media` of `contract` is checked against (sent to the worker the first
   * time), or 0 past `MAX_CONTENT_TYPES` content types for it: an upstream answering a new
   * content type each time is checked here rather than growing both threads' tables.
   */
  private targetId(contract: Contract, media: MediaSpec, contentType: string | undefined): number {
    let byType = this.targetIds.get(media);
    if (!byType) this.targetIds.set(media, (byType = new Map()));
    let id = byType.get(contentType);
    if (id === undefined) {
      if (byType.size >= MAX_CONTENT_TYPES) return 0;
      id = this.nextId++;
      byType.set(contentType, id);
      const target: BodyCheckTarget = {
        id,
        contract: this.contractId(contract),
        mediaType: media.type,
        schema: toPointer(media.schemaPath!),
        contentType,
      };
      this.post({ kind: 'target', target });
    }
    return id;
  }

  private contractId(contract: Contract): number {
    let id = this.contractIds.get(contract);
    if (id === undefined) {
      id = this.nextId++;
      this.contractIds.set(contract, id);
      this.release.register(contract, id);
      this.post({ kind: 'contract', id, spec: contract.spec });
    }
    return id;
  }

  /** Sends the queued bodies: one message with their index (target, start, end a body). */
  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    if (batch.length === 0 || !this.worker) return;
    const id = this.nextBatch++;
    this.sent.set(id, batch);
    this.sentCount += batch.length;
    this.post({ kind: 'check', batch: id, index: this.index });
    this.queue = [];
    this.index = [];
  }

  private answered(answer: BodyCheckAnswer): void {
    const batch = this.sent.get(answer.batch);
    if (!batch) return;
    this.sent.delete(answer.batch);
    this.sentCount -= batch.length;
    this.checkedInWorker += batch.length;
    let next = 0;
    for (let position = 0; position < batch.length; position++) {
      this.ring!.release();
      const found = answer.found[next]?.[0] === position ? answer.found[next++]![1] : [];
      batch[position]!.done(found);
    }
    this.settleIfIdle();
  }

  private lost(reason: string): void {
    if (!this.worker) return;
    this.failure ??= reason;
    this.checkWaitingHere();
    this.worker = undefined;
  }

  /** Checks every body still waiting on this thread, from the ring (the worker is gone). */
  private checkWaitingHere(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const waiting = [...[...this.sent.values()].flat(), ...this.queue];
    this.sent.clear();
    this.sentCount = 0;
    this.queue = [];
    this.index = [];
    for (const { contract, media, contentType, start, length, done } of waiting) {
      const body = Buffer.from(this.ring!.bytes.subarray(start, start + length));
      inlineBodyChecks.check(contract, media, contentType, body, done);
    }
    this.ring?.clear();
    this.settleIfIdle();
  }

  private settleIfIdle(): void {
    if (this.waiting !== 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

let shared: OffThreadBodyChecks | undefined;

/** The process's off-thread body checks (its worker starts with the first body). */
export function offThreadBodyChecks(): OffThreadBodyChecks {
  return (shared ??= new OffThreadBodyChecks());
}

/** Where the process's response bodies are checked. */
export function bodyCheckStats(): BodyCheckStats {
  return (
    shared?.stats() ?? { worker: 'not started', checkedInWorker: 0, checkedHere: 0, waiting: 0 }
  );
}

/** Resolves once the process's off-thread checks (if any were made) have all been answered. */
export function bodyChecksIdle(timeoutMs?: number): Promise<void> {
  return shared ? shared.idle(timeoutMs) : Promise.resolve();
}

/** The worker's module next to this one: `.js` when built (tsc or the bundle), `.ts` from source. */
function defaultWorkerUrl(): URL {
  const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./body-check-worker${extension}`, import.meta.url);
}

/** Starts the worker on `ring`; from TypeScript sources (the tests) through tsx, a development dependency. */
function startWorker(url: URL, ring: SharedArrayBuffer): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, { workerData: { ring } });
  const load = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(load, { eval: true, workerData: { ring } });
}
