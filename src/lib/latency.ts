/**
 * Latency models shared by simulated services and delay faults: fixed, or log-normal
 * fitted to a median (p50) and a 99th percentile (p99).
 */
import type { Latency } from '../config/model.js';
import type { Random } from './random.js';

/** z-score of the 99th percentile of the standard normal distribution. */
const Z99 = 2.326347874;

/** Draws one latency in ms. */
export function sampleLatency(latency: Latency, random: Random): number {
  if ('fixedMs' in latency) return latency.fixedMs;
  const mu = Math.log(Math.max(latency.p50Ms, 0.001));
  const sigma = Math.max(0, (Math.log(Math.max(latency.p99Ms, 0.001)) - mu) / Z99);
  return Math.exp(mu + sigma * standardNormal(random));
}

/** Box–Muller transform over the injected generator. */
function standardNormal(random: Random): number {
  const u = 1 - random(); // (0, 1]: log(0) is not a number
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
