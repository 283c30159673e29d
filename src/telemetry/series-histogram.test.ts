import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { SeriesHistogram } from './series-histogram.js';

const BOUNDS = [1, 5, 25, 100];
const OBSERVED = [0.2, 1, 1.5, 5, 7, 30, 99.9, 100, 250, 4000];

describe('SeriesHistogram', () => {
  it("exposes exactly what prom-client's Histogram exposes for the same observations", async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const histogram = new SeriesHistogram('call_ms', 'Call duration (ms)', BOUNDS, ours);
    const reference = new Histogram({
      name: 'call_ms',
      help: 'Call duration (ms)',
      labelNames: ['service', 'code'],
      buckets: BOUNDS,
      registers: [theirs],
    });
    const api = histogram.add({ service: 'api', code: '200' });
    const web = histogram.add({ service: 'web', code: '503' });
    for (const value of OBSERVED) {
      api.observe(value);
      reference.observe({ service: 'api', code: '200' }, value);
    }
    web.observe(12);
    reference.observe({ service: 'web', code: '503' }, 12);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    const json = (await ours.getMetricsAsJSON())[0]!;
    expect(json.values).toContainEqual({
      labels: { service: 'api', code: '200', le: 5 },
      value: 4,
      metricName: 'call_ms_bucket',
    });
  });

  it('zeroes on reset', async () => {
    const registry = new Registry();
    const histogram = new SeriesHistogram('call_ms', 'Call duration (ms)', BOUNDS, registry);
    histogram.add({ service: 'api' }).observe(3);
    registry.resetMetrics();
    expect(await registry.metrics()).toContain('call_ms_count{service="api"} 0');
  });
});
