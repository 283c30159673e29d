/**
 * API usage by consumer: calls, 2xx/4xx/5xx, limited (429 from a plan), last seen and
 * top endpoints, over all time and over any recent span (`meshdev usage --since 1h`).
 * Keeps a bounded ring of recent consumer calls (the last `USAGE_RING`); subscribed to
 * the bus's `call` events; read by `GET /v1/usage`, the dashboard and `meshdev usage`.
 */
import type { MeshBus } from './bus.js';
import type { CallRecord } from './call-record.js';
import { endpointOf } from './endpoint.js';
import { Ring } from '../lib/ring.js';

/** Consumer calls kept for `--since` spans. */
export const USAGE_RING = 20_000;

/** One consumer's usage. */
export interface ConsumerUsage {
  consumer: string;
  calls: number;
  ok: number;
  clientErrors: number;
  serverErrors: number;
  /** Refused by the consumer's plan (flag RL). */
  limited: number;
  /** Calls per second over the last minute. */
  rps: number;
  lastSeen: number;
  topEndpoints: Array<{ endpoint: string; calls: number }>;
}

/** A consumer with no calls (yet). */
export function emptyUsage(consumer: string): ConsumerUsage {
  return {
    consumer,
    calls: 0,
    ok: 0,
    clientErrors: 0,
    serverErrors: 0,
    limited: 0,
    rps: 0,
    lastSeen: 0,
    topEndpoints: [],
  };
}

interface Entry {
  time: number;
  consumer: string;
  status: number;
  limited: boolean;
  endpoint: string;
}

/** Keeps usage by consumer for one mesh. */
export class UsageLedger {
  private readonly ring = new Ring<Entry>(USAGE_RING);
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  /** Starts counting the calls `bus` reports. */
  attach(bus: MeshBus): this {
    this.unsubscribe = bus.on('call', (call) => this.record(call));
    return this;
  }

  /** Stops counting. */
  detach(): void {
    this.unsubscribe?.();
  }

  /** Counts a call of a consumer (calls without one are not API usage). */
  record(call: CallRecord): void {
    if (!call.consumer) return;
    this.ring.push({
      time: call.time,
      consumer: call.consumer,
      status: call.status,
      limited: call.flags.includes('RL'),
      endpoint: `${call.service} ${endpointOf(call)}`,
    });
  }

  /** Usage per consumer since `sinceMs` ago (everything kept when undefined), busiest first. */
  byConsumer(sinceMs?: number): ConsumerUsage[] {
    const now = this.now();
    const from = sinceMs === undefined ? -Infinity : now - sinceMs;
    const rows = new Map<string, ConsumerUsage & { endpoints: Map<string, number> }>();
    // req/s over the last minute, or over the time since the first call when that is shorter.
    const minuteAgo = now - 60_000;
    const entries = this.ring.oldestFirst();
    const firstRecent = entries.find((entry) => entry.time >= minuteAgo)?.time ?? now;
    const spanS = Math.max(1, (now - Math.max(minuteAgo, firstRecent)) / 1000);
    for (const entry of entries) {
      if (entry.time < from) continue;
      let row = rows.get(entry.consumer);
      if (!row) {
        row = { ...emptyUsage(entry.consumer), endpoints: new Map() };
        rows.set(entry.consumer, row);
      }
      row.calls++;
      if (entry.status >= 200 && entry.status < 400) row.ok++;
      else if (entry.status >= 400 && entry.status < 500) row.clientErrors++;
      else row.serverErrors++;
      if (entry.limited) row.limited++;
      if (entry.time >= minuteAgo) row.rps += 1 / spanS;
      row.lastSeen = Math.max(row.lastSeen, entry.time);
      row.endpoints.set(entry.endpoint, (row.endpoints.get(entry.endpoint) ?? 0) + 1);
    }
    return [...rows.values()]
      .map(({ endpoints, ...row }) => ({
        ...row,
        rps: Math.round(row.rps * 100) / 100,
        topEndpoints: [...endpoints]
          .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
          .slice(0, 5)
          .map(([endpoint, calls]) => ({ endpoint, calls })),
      }))
      .sort((a, b) => b.calls - a.calls || a.consumer.localeCompare(b.consumer));
  }
}
