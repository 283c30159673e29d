/**
 * A Prometheus histogram whose label sets are known objects: each series counts its
 * observations into a plain array, and the registry reads them when scraped. prom-client's
 * own `Histogram` hashes the label set on every `observe` (its children too), which made
 * the duration histogram the costliest update of a call record. The exposition is
 * prom-client's: this is a metric its `Registry` renders like any other.
 */
import type { Registry } from 'prom-client';

/** One label set's counts. */
export class HistogramSeries {
  /** Observations per bucket (not cumulative); the last slot is past the last bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let slot = 0;
    while (slot < bounds.length && value > bounds[slot]!) slot++;
    this.counts[slot]!++;
    this.sum += value;
    this.count++;
  }
}

/** What prom-client's registry reads of a metric. */
interface MetricValue {
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  value: number;
  metricName: string;
}

/** A histogram metric over `HistogramSeries`, registered in a prom-client registry. */
export class SeriesHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series: HistogramSeries[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  /** A new series for `labels` (keep it: every call adds to it directly). */
  add(labels: Record<string, string>): HistogramSeries {
    const series = new HistogramSeries(labels, this.bounds);
    this.series.push(series);
    return series;
  }

  /** The text exposition's values: labels of the series shared by its bucket lines, as prom-client writes them. */
  getForPromString(): { name: string; help: string; type: string; values: MetricValue[] } {
    const values: MetricValue[] = [];
    for (const series of this.series) {
      let cumulative = 0;
      this.bounds.forEach((bound, slot) => {
        cumulative += series.counts[slot]!;
        values.push(bucket(this.name, bound, cumulative, series.labels));
      });
      values.push(bucket(this.name, '+Inf', series.count, series.labels));
      values.push(
        {
          labels: {},
          sharedLabels: { ...series.labels },
          value: series.sum,
          metricName: `${this.name}_sum`,
        },
        {
          labels: {},
          sharedLabels: { ...series.labels },
          value: series.count,
          metricName: `${this.name}_count`,
        },
      );
    }
    return { name: this.name, help: this.help, type: this.type, values };
  }

  /** The JSON form: each value's labels in one object. */
  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    const text = this.getForPromString();
    return {
      ...text,
      aggregator: this.aggregator,
      values: text.values.map(({ labels, sharedLabels, value, metricName }) => ({
        labels: { ...sharedLabels, ...labels },
        value,
        metricName,
      })),
    };
  }

  /** Zeroes every series (the registry's `resetMetrics`). */
  reset(): void {
    for (const series of this.series) {
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }
}

function bucket(
  name: string,
  le: number | string,
  value: number,
  labels: Readonly<Record<string, string>>,
): MetricValue {
  return { labels: { le }, sharedLabels: { ...labels }, value, metricName: `${name}_bucket` };
}
