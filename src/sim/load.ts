/**
 * The built-in load generator, aimed at the gateway: open loop at a constant rate
 * (`rps`, optionally ramped up over `ramp`) or closed loop (`concurrency` workers), for
 * `duration` or until stopped. Its calls carry a per-mesh token so the gateway records
 * them with the caller `load`.
 */
import { Pool } from 'undici';
import type { LoadSpec } from '../config/model.js';
import { LOAD_HEADER } from './load-header.js';

export { LOAD_HEADER };
/** Open-loop calls in flight above which new ones are skipped (and counted). */
export const MAX_IN_FLIGHT = 1000;
/** Scheduler tick, ms. */
const TICK_MS = 5;

export interface LoadOptions {
  /** Base URL of the gateway, e.g. `http://127.0.0.1:8080`. */
  target: string;
  token: string;
  now?: () => number;
}

/** Counters of one running load. */
export interface LoadStats {
  sent: number;
  completed: number;
  failed: number;
  /** Open-loop sends skipped because too many were in flight. */
  skipped: number;
}

/** A running load; `done` resolves when its duration is over or it is stopped. */
export interface RunningLoad {
  stats: LoadStats;
  done: Promise<void>;
  stop(): Promise<void>;
}

/** How many requests an open loop should have sent `elapsed` ms after its start. */
export function dueCount(spec: Pick<LoadSpec, 'rps' | 'rampMs'>, elapsed: number): number {
  const rps = spec.rps ?? 0;
  const ramp = spec.rampMs ?? 0;
  if (elapsed <= 0) return 0;
  if (ramp > 0 && elapsed < ramp) return (rps * elapsed * elapsed) / (2 * ramp * 1000);
  // Linear ramp to full rate (area of the triangle), then constant rate.
  return (rps * (ramp / 2 + (elapsed - ramp))) / 1000;
}

/** Starts one load. */
export function startLoad(spec: LoadSpec, options: LoadOptions): RunningLoad {
  const now = options.now ?? (() => performance.now());
  const pool = new Pool(options.target, {
    connections: spec.concurrency ?? 64,
    keepAliveTimeout: 10_000,
  });
  const stats: LoadStats = { sent: 0, completed: 0, failed: 0, skipped: 0 };
  const body = spec.body === undefined ? undefined : JSON.stringify(spec.body);
  const headers: Record<string, string> = {
    ...spec.headers,
    [LOAD_HEADER]: options.token,
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
  };
  let inFlight = 0;
  let stopped = false;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));

  const fire = async () => {
    stats.sent++;
    inFlight++;
    try {
      const response = await pool.request({
        method: spec.method as never,
        path: spec.path,
        headers,
        body,
      });
      await response.body.dump();
      if (response.statusCode >= 500) stats.failed++;
      stats.completed++;
    } catch {
      stats.failed++;
      stats.completed++;
    } finally {
      inFlight--;
    }
  };

  const started = now();
  const over = () =>
    stopped ||
    (spec.durationMs !== undefined && now() - started >= spec.durationMs) ||
    (spec.maxRequests !== undefined && stats.sent >= spec.maxRequests);
  let timer: NodeJS.Timeout | undefined;
  const workers: Promise<void>[] = [];
  if (spec.rps !== undefined) {
    const tick = () => {
      if (over()) return void finish();
      const due = Math.floor(dueCount(spec, now() - started));
      while (stats.sent + stats.skipped < due) {
        if (inFlight >= MAX_IN_FLIGHT) stats.skipped++;
        else void fire();
      }
      timer = setTimeout(tick, TICK_MS);
    };
    tick();
  } else {
    for (let i = 0; i < (spec.concurrency ?? 1); i++) {
      workers.push(
        (async () => {
          while (!over()) await fire();
        })(),
      );
    }
    void Promise.all(workers).then(() => finish());
  }

  return {
    stats,
    done,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      finish();
      await Promise.all(workers);
      // Let calls in flight finish (briefly), so stopping does not look like an outage.
      await Promise.race([pool.close(), new Promise((resolve) => setTimeout(resolve, 2000))]);
      await pool.destroy();
    },
  };
}
