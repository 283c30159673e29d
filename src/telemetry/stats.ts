/**
 * Live statistics over a rolling one-minute window, per service, instance, edge
 * (caller→callee), route template and status class: req/s, p50/p90/p99 (HDR histograms),
 * error % and flag counts. Memory is bounded whatever the traffic: a fixed ring of
 * buckets per key, a cap on keys per dimension, and a ring of the last 1,000 calls.
 */
import { createRequire } from 'node:module';
import type { Histogram } from 'hdr-histogram-js';
import { instanceLabel } from '../config/model.js';
import type { MeshBus } from './bus.js';
import type { CallRecord } from './call-record.js';
import { endpointOf } from './endpoint.js';
import { KeyTree } from '../lib/key-tree.js';
import { Ring } from '../lib/ring.js';

/** The dimensions stats are kept by. */
export const DIMENSIONS = ['service', 'instance', 'edge', 'route', 'status'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** One row of a snapshot. */
export interface StatsRow {
  key: string;
  requests: number;
  /** Requests per second over the window. */
  rps: number;
  /** Latency percentiles, ms. */
  p50: number;
  p90: number;
  p99: number;
  /** 5xx answers and resets, percent of requests. */
  errorPct: number;
  flags: Record<string, number>;
}

export interface StatsSnapshot {
  at: number;
  windowMs: number;
  total: StatsRow;
  by: Record<Dimension, StatsRow[]>;
}

export interface StatsOptions {
  windowMs?: number;
  buckets?: number;
  /** Keys kept per dimension; further keys are counted under `(other)`. */
  maxKeys?: number;
  recentSize?: number;
  now?: () => number;
}

interface Bucket {
  start: number;
  count: number;
  errors: number;
  flags: Map<string, number>;
  histogram: Histogram;
}

/**
 * The JS histogram meshdev records into, required from its own file: the package's index
 * also loads its WebAssembly build, ~65 ms of every start for nothing used here.
 */
const { default: Int32Histogram } = createRequire(import.meta.url)(
  'hdr-histogram-js/dist/Int32Histogram',
) as {
  default: new (lowest: number, highest: number, significantDigits: number) => Histogram;
};

/** 1 µs to 1 h at 2 significant digits, growing as needed (what `build()` gives). */
const newHistogram = (): Histogram => {
  const histogram = new Int32Histogram(1, 3_600_000_000, 2);
  histogram.autoResize = true;
  return histogram;
};

/** A fixed ring of buckets covering the window. */
class Series {
  readonly buckets: Bucket[];

  constructor(count: number) {
    this.buckets = Array.from({ length: count }, () => ({
      start: -1,
      count: 0,
      errors: 0,
      flags: new Map(),
      histogram: newHistogram(),
    }));
  }

  add(call: CallRecord, bucketStart: number, index: number): void {
    const bucket = this.buckets[index]!;
    if (bucket.start !== bucketStart) {
      bucket.start = bucketStart;
      bucket.count = 0;
      bucket.errors = 0;
      bucket.flags.clear();
      bucket.histogram.reset();
    }
    bucket.count++;
    if (call.status === 0 || call.status >= 500) bucket.errors++;
    for (const flag of call.flags) bucket.flags.set(flag, (bucket.flags.get(flag) ?? 0) + 1);
    // Microseconds, so sub-millisecond hops keep their resolution.
    bucket.histogram.recordValue(Math.max(1, Math.round(call.durationMs * 1000)));
  }
}

/**
 * The calls of one combination of dimension keys (service, instance, edge, route,
 * status): a call is added to its cell once, and a snapshot adds the cells up per
 * dimension — one histogram update per call instead of one per dimension.
 */
interface Cell {
  keys: Record<Dimension, string>;
  series: Series;
}

/** Aggregates call records; subscribe it to a bus or feed it with `record`. */
export class MeshStats {
  private readonly windowMs: number;
  private readonly bucketMs: number;
  private readonly bucketCount: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  private readonly started: number;
  private readonly cells = new Map<string, Cell>();
  /** The keys seen per dimension, for the cap (one slot stays for `(other)`). */
  private readonly keysSeen = new Map<Dimension, Set<string>>();
  /** Cells found before, by the call fields their keys come from (no key built per call). */
  private readonly lookup = new KeyTree<Cell>();
  private readonly totals: Series;
  private readonly recentCalls: Ring<CallRecord>;
  private readonly scratch = newHistogram();

  constructor(options: StatsOptions = {}) {
    this.windowMs = options.windowMs ?? 60_000;
    this.bucketCount = options.buckets ?? 12;
    this.bucketMs = this.windowMs / this.bucketCount;
    this.maxKeys = options.maxKeys ?? 500;
    this.now = options.now ?? Date.now;
    this.started = this.now();
    this.totals = new Series(this.bucketCount);
    this.recentCalls = new Ring<CallRecord>(options.recentSize ?? 1000);
    for (const dimension of DIMENSIONS) this.keysSeen.set(dimension, new Set());
  }

  /** Subscribes to `bus`; returns the unsubscribe function. */
  attach(bus: MeshBus): () => void {
    return bus.on('call', (call) => this.record(call));
  }

  /** Adds one call. */
  record(call: CallRecord): void {
    const at = this.now();
    const bucketStart = Math.floor(at / this.bucketMs) * this.bucketMs;
    const index = Math.floor(at / this.bucketMs) % this.bucketCount;
    this.totals.add(call, bucketStart, index);
    this.cellOf(call).series.add(call, bucketStart, index);
    this.recentCalls.push(call);
  }

  /** The cell of `call`: found by its fields, else made from its keys. */
  private cellOf(call: CallRecord): Cell {
    // What the route key depends on: the operation, or the method and the route (or path).
    const route = call.route.endsWith('*') ? call.path : call.route;
    const fields = [
      call.caller,
      call.service,
      call.version,
      call.operation ?? call.method,
      route,
      call.status,
    ];
    const known = this.lookup.get(fields);
    if (known) return known;
    // Paths with ids are endless: the lookup starts over rather than grow without bound.
    if (this.lookup.size >= this.maxKeys * 8) this.lookup.clear();
    const cell = this.cellFor(call);
    this.lookup.set(fields, cell);
    return cell;
  }

  private cellFor(call: CallRecord): Cell {
    const keys: Record<Dimension, string> = {
      service: call.service,
      instance: instanceLabel(call.service, call.version),
      edge: `${call.caller}→${call.service}`,
      route: `${call.service} ${endpointOf(call)}`,
      status: call.status === 0 ? 'reset' : `${Math.floor(call.status / 100)}xx`,
    };
    for (const dimension of DIMENSIONS) {
      const seen = this.keysSeen.get(dimension)!;
      if (seen.has(keys[dimension])) continue;
      // One slot stays for `(other)`, so a dimension never holds more than maxKeys rows.
      if (seen.size >= this.maxKeys - 1) keys[dimension] = '(other)';
      seen.add(keys[dimension]);
    }
    const id = DIMENSIONS.map((dimension) => keys[dimension]).join('\0');
    let cell = this.cells.get(id);
    if (!cell) this.cells.set(id, (cell = { keys, series: new Series(this.bucketCount) }));
    return cell;
  }

  /** The last calls, newest first (at most the ring size). */
  recent(limit?: number): CallRecord[] {
    return this.recentCalls.newestFirst(limit);
  }

  /** How many call records are held (never more than the ring size). */
  get recentSize(): number {
    return this.recentCalls.size;
  }

  /** Aggregates the window into rows, busiest first. */
  snapshot(): StatsSnapshot {
    const at = this.now();
    const by = {} as Record<Dimension, StatsRow[]>;
    for (const dimension of DIMENSIONS) {
      const groups = new Map<string, Series[]>();
      for (const cell of this.cells.values()) {
        const key = cell.keys[dimension];
        const group = groups.get(key);
        if (group) group.push(cell.series);
        else groups.set(key, [cell.series]);
      }
      by[dimension] = [...groups]
        .map(([key, series]) => this.row(key, series, at))
        .filter((row) => row.requests > 0)
        .sort((a, b) => b.requests - a.requests || a.key.localeCompare(b.key));
    }
    return { at, windowMs: this.windowMs, total: this.row('total', [this.totals], at), by };
  }

  private row(key: string, seriesList: readonly Series[], at: number): StatsRow {
    const oldest =
      Math.floor(at / this.bucketMs) * this.bucketMs - (this.bucketCount - 1) * this.bucketMs;
    let requests = 0;
    let errors = 0;
    const flags: Record<string, number> = {};
    this.scratch.reset();
    for (const series of seriesList) {
      for (const bucket of series.buckets) {
        if (bucket.start < oldest || bucket.count === 0) continue;
        requests += bucket.count;
        errors += bucket.errors;
        for (const [flag, count] of bucket.flags) flags[flag] = (flags[flag] ?? 0) + count;
        this.scratch.add(bucket.histogram);
      }
    }
    // Right after start the window is not full yet: rate over the time actually covered.
    const covered = Math.max(1, Math.min(this.windowMs, at - this.started, at - oldest));
    const percentile = (p: number) =>
      requests === 0 ? 0 : this.scratch.getValueAtPercentile(p) / 1000;
    return {
      key,
      requests,
      rps: (requests * 1000) / covered,
      p50: percentile(50),
      p90: percentile(90),
      p99: percentile(99),
      errorPct: requests === 0 ? 0 : (errors * 100) / requests,
      flags,
    };
  }
}
