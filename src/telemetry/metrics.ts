/**
 * Prometheus metrics (prom-client) with Istio's label names, so existing dashboards
 * adapt: requests, durations, bytes, faults in force and breaker state.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { KeyTree } from '../lib/key-tree.js';
import { SeriesHistogram, type HistogramSeries } from './series-histogram.js';
import type { MeshBus } from './bus.js';
import type { CallRecord } from './call-record.js';

const LABELS = [
  'source_workload',
  'destination_service_name',
  'destination_version',
  'response_code',
  'response_flags',
  'connection_security_policy',
] as const;

/** What the metrics read of a listener on scrape: its TLS handshakes so far. */
export interface TlsListenerCounts {
  kind: string;
  service?: string;
  version?: string;
  handshakes?: { full: number; resumed: number };
}

/** What the metrics read on scrape: faults and breakers in force per service. */
export interface PolicyStateSource {
  state(): ReadonlyArray<{
    name: string;
    faults: ReadonlyArray<{ source: 'file' | 'runtime' }>;
    breakers: Readonly<Record<string, string>>;
  }>;
}

/** Consumers that get a `consumer` label value of their own. */
export const MAX_CONSUMER_LABELS = 20;

/** A registry of the mesh's metrics, fed by the bus and (on scrape) by the runtime. */
export class MeshMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<(typeof LABELS)[number]>;
  private readonly duration: SeriesHistogram;
  private readonly requestBytes: Counter<(typeof LABELS)[number]>;
  private readonly responseBytes: Counter<(typeof LABELS)[number]>;
  private readonly violations: Counter<
    'destination_service_name' | 'operation' | 'severity' | 'location_kind'
  >;
  private readonly consumerRequests: Counter<
    'consumer' | 'destination_service_name' | 'response_code'
  >;
  private readonly limited: Counter<'consumer'>;
  /** Calls per consumer label set, as plain numbers published on scrape (like `series`). */
  private readonly consumerSeries = new Map<
    string,
    {
      labels: Record<'consumer' | 'destination_service_name' | 'response_code', string>;
      calls: number;
    }
  >();
  /** Consumers with a label of their own; later ones are counted as `other`. */
  private readonly namedConsumers = new Set<string>();
  /**
   * Per Istio label set, found by the call's fields: the counters as plain numbers and
   * the duration histogram's series, all published on scrape. prom-client hashes the label
   * object on every update (children included): a call's four updates are additions.
   */
  private readonly series = new KeyTree<{
    labels: Record<(typeof LABELS)[number], string>;
    requests: number;
    requestBytes: number;
    responseBytes: number;
    duration: HistogramSeries;
  }>();
  private readonly allSeries: Array<{
    labels: Record<(typeof LABELS)[number], string>;
    requests: number;
    requestBytes: number;
    responseBytes: number;
  }> = [];

  constructor(
    bus: MeshBus,
    runtime: () => PolicyStateSource,
    listeners: () => readonly TlsListenerCounts[] = () => [],
  ) {
    const registers = [this.registry];
    const series = this.allSeries;
    /** A counter whose values are the series' running totals, set when scraped. */
    const totals = (field: 'requests' | 'requestBytes' | 'responseBytes') =>
      function collect(this: Counter<(typeof LABELS)[number]>) {
        this.reset();
        for (const entry of series) this.inc(entry.labels, entry[field]);
      };
    this.requests = new Counter({
      name: 'meshdev_requests_total',
      help: 'Calls per hop',
      labelNames: LABELS,
      registers,
      collect: totals('requests'),
    });
    this.duration = new SeriesHistogram(
      'meshdev_request_duration_milliseconds',
      'Call duration per hop, retries included (ms)',
      [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      this.registry,
    );
    this.requestBytes = new Counter({
      name: 'meshdev_request_bytes_total',
      help: 'Request body bytes',
      labelNames: LABELS,
      registers,
      collect: totals('requestBytes'),
    });
    this.responseBytes = new Counter({
      name: 'meshdev_response_bytes_total',
      help: 'Response body bytes',
      labelNames: LABELS,
      registers,
      collect: totals('responseBytes'),
    });
    this.consumerRequests = new Counter({
      name: 'meshdev_consumer_requests_total',
      help: `Calls of API consumers at the gateway (the first ${MAX_CONSUMER_LABELS} consumers by name, the rest as "other")`,
      labelNames: ['consumer', 'destination_service_name', 'response_code'],
      registers,
      collect: () => {
        this.consumerRequests.reset();
        for (const entry of this.consumerSeries.values())
          this.consumerRequests.inc(entry.labels, entry.calls);
      },
    });
    this.limited = new Counter({
      name: 'meshdev_ratelimit_limited_total',
      help: "Calls refused by the caller's plan (rate limit or quota: 429, flag RL)",
      labelNames: ['consumer'],
      registers,
    });
    this.violations = new Counter({
      name: 'meshdev_contract_violations_total',
      help: "Contract violations against the callee's OpenAPI spec",
      labelNames: ['destination_service_name', 'operation', 'severity', 'location_kind'],
      registers,
    });
    new Gauge({
      name: 'meshdev_faults_active',
      help: 'Faults in force per service and source (file or runtime)',
      labelNames: ['destination_service_name', 'source'],
      registers,
      collect() {
        this.reset();
        for (const service of runtime().state()) {
          for (const source of ['file', 'runtime'] as const) {
            this.set(
              { destination_service_name: service.name, source },
              service.faults.filter((f) => f.source === source).length,
            );
          }
        }
      },
    });
    new Gauge({
      name: 'meshdev_circuit_breaker_open',
      help: '1 while the breaker of an instance is open (0.5 half-open), else 0',
      labelNames: ['destination_service_name', 'destination_version'],
      registers,
      collect() {
        this.reset();
        for (const service of runtime().state()) {
          for (const [version, state] of Object.entries(service.breakers)) {
            this.set(
              { destination_service_name: service.name, destination_version: version },
              state === 'open' ? 1 : state === 'half-open' ? 0.5 : 0,
            );
          }
        }
      },
    });
    new Counter({
      name: 'meshdev_tls_handshakes_total',
      help: 'TLS handshakes completed by each TLS listener, full or resumed (flat under keep-alive load)',
      labelNames: ['listener', 'session'],
      registers,
      collect() {
        this.reset();
        for (const info of listeners()) {
          if (!info.handshakes) continue;
          const listener =
            info.kind === 'inbound' ? `inbound ${info.service}@${info.version}` : info.kind;
          this.inc({ listener, session: 'full' }, info.handshakes.full);
          this.inc({ listener, session: 'resumed' }, info.handshakes.resumed);
        }
      },
    });
    // The process's own: resident memory, heap, event-loop lag, GC (standard names).
    collectDefaultMetrics({ register: this.registry });
    bus.on('call', (call) => this.record(call));
  }

  /** Counts one call. */
  record(call: CallRecord): void {
    const flags = call.flags.length > 0 ? call.flags.join(',') : '-';
    const version = call.version || 'unknown';
    const key = [call.caller, call.service, version, call.status, flags, call.security];
    let series = this.series.get(key);
    if (!series) {
      const labels = {
        source_workload: call.caller,
        destination_service_name: call.service,
        destination_version: version,
        response_code: String(call.status),
        response_flags: flags,
        connection_security_policy: call.security,
      };
      series = {
        labels,
        requests: 0,
        requestBytes: 0,
        responseBytes: 0,
        duration: this.duration.add(labels),
      };
      this.series.set(key, series);
      this.allSeries.push(series);
    }
    series.requests++;
    series.requestBytes += call.bytesIn;
    series.responseBytes += call.bytesOut;
    series.duration.observe(call.durationMs);
    if (call.consumer !== undefined || call.flags.includes('RL')) {
      const consumer = this.consumerLabel(call.consumer);
      const key = `${consumer}|${call.service}|${call.status}`;
      let entry = this.consumerSeries.get(key);
      if (!entry) {
        const labels = {
          consumer,
          destination_service_name: call.service,
          response_code: String(call.status),
        };
        entry = { labels, calls: 0 };
        this.consumerSeries.set(key, entry);
      }
      entry.calls++;
      if (call.flags.includes('RL')) this.limited.inc({ consumer });
    }
    for (const violation of call.violations ?? []) {
      this.violations.inc({
        destination_service_name: call.service,
        operation: call.operation ?? 'unknown',
        severity: violation.severity,
        // `request.query`, `response.body`: bounded, unlike the full location.
        location_kind: violation.location.slice(0, 2).join('.'),
      });
    }
  }

  /** A bounded label: a consumer's name, `other` past the first few, `anonymous` for none. */
  private consumerLabel(consumer: string | undefined): string {
    if (consumer === undefined) return 'anonymous';
    if (this.namedConsumers.has(consumer)) return consumer;
    if (this.namedConsumers.size >= MAX_CONSUMER_LABELS) return 'other';
    this.namedConsumers.add(consumer);
    return consumer;
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
