/**
 * Quota counters that survive restarts: `{consumer: {windowStart, used}}` in
 * `.meshdev/usage/quotas.json`, written atomically (a temp file renamed over the old one)
 * at most once per `flushMs` — a crash loses at most that interval of counts.
 */
import { readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { ensurePrivateDir, writePrivateFile } from '../lib/private-files.js';

/** One consumer's use of its quota window. */
export interface QuotaCounter {
  windowStart: number;
  used: number;
}

/** How often counts are written, ms. */
export const QUOTA_FLUSH_MS = 1_000;

/** Quota counters, kept in memory and flushed to a file. */
export class QuotaStore {
  private readonly counters: Map<string, QuotaCounter>;
  private timer: NodeJS.Timeout | undefined;

  /** `file`: where counts live; undefined keeps them in memory only (tests). */
  constructor(
    private readonly file?: string,
    private readonly flushMs = QUOTA_FLUSH_MS,
  ) {
    this.counters = new Map(Object.entries(file ? readCounters(file) : {}));
  }

  /** Counts one request of `key` in a window of `perMs` starting at its first use; returns the counter. */
  take(key: string, perMs: number, now: number): QuotaCounter {
    let counter = this.counters.get(key);
    if (!counter || now >= counter.windowStart + perMs) {
      counter = { windowStart: now, used: 0 };
      this.counters.set(key, counter);
    }
    counter.used++;
    this.schedule();
    return counter;
  }

  /** Gives back a request that was refused (a refused call does not use the quota). */
  untake(key: string): void {
    const counter = this.counters.get(key);
    if (counter && counter.used > 0) counter.used--;
  }

  /** The counter of `key`, if any. */
  get(key: string): QuotaCounter | undefined {
    return this.counters.get(key);
  }

  /** Clears one consumer's counter, or all; returns how many were cleared. */
  reset(key?: string): number {
    const cleared = key === undefined ? this.counters.size : this.counters.has(key) ? 1 : 0;
    if (key === undefined) this.counters.clear();
    else this.counters.delete(key);
    this.flush();
    return cleared;
  }

  /** Writes now when counts changed since the last write (on stop). */
  flushIfUsed(): void {
    if (this.timer) this.flush();
  }

  /** Writes now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.file) return;
    ensurePrivateDir(path.dirname(this.file));
    const temp = `${this.file}.${process.pid}.tmp`;
    writePrivateFile(temp, `${JSON.stringify(Object.fromEntries(this.counters))}\n`);
    renameSync(temp, this.file);
  }

  private schedule(): void {
    if (!this.file || this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.flushMs);
    this.timer.unref();
  }
}

function readCounters(file: string): Record<string, QuotaCounter> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, QuotaCounter>;
  } catch {
    return {};
  }
}
