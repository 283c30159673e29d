/**
 * Fault stage, per attempt (below retry and timeout, where a real failure would be):
 * each matching fault's actions fire independently by their percent — delay (`DI`),
 * abort with a status (`FI`), connection reset (`FR`), bandwidth throttle (`BW`).
 */
import { pipeline } from 'node:stream';
import { sampleLatency } from '../../lib/latency.js';
import { errorOutcome } from '../error-outcome.js';
import type { HopContext, Outcome, Stage } from '../pipeline.js';
import { throttle } from '../faults/throttle.js';

export const faultStage: Stage<HopContext> = {
  name: 'fault',
  async handle(ctx, next) {
    const input = { method: ctx.method, path: ctx.pathname, headers: ctx.headers as never };
    const hit = (percent: number) => percent >= 100 || ctx.random() * 100 < percent;
    let bandwidth: number | undefined;
    for (const { rule, match } of ctx.service.faults) {
      if (rule.version !== undefined && rule.version !== ctx.version) continue;
      if (!match.test(input)) continue;
      if (rule.delay && hit(rule.delay.percent)) {
        ctx.flags.add('DI');
        await ctx.clock.sleep(sampleLatency(rule.delay, ctx.random), ctx.attemptSignal);
      }
      if (rule.abort && hit(rule.abort.percent)) {
        ctx.flags.add('FI');
        return errorOutcome(
          'fault_abort',
          { service: ctx.service.name, version: ctx.version },
          { status: rule.abort.status },
        );
      }
      if (rule.reset && hit(rule.reset.percent)) {
        ctx.flags.add('FR');
        return { kind: 'reset', injected: true };
      }
      if (rule.bandwidth && hit(rule.bandwidth.percent)) {
        bandwidth = Math.min(bandwidth ?? Infinity, rule.bandwidth.bytesPerSecond);
      }
    }
    if (ctx.attemptSignal.aborted) {
      return { kind: 'reset', injected: false } satisfies Outcome;
    }
    const outcome = await next();
    if (bandwidth === undefined || outcome.kind !== 'response' || !outcome.body) return outcome;
    ctx.flags.add('BW');
    const limited = throttle(bandwidth);
    pipeline(outcome.body, limited, () => {});
    return { ...outcome, body: limited };
  },
};
