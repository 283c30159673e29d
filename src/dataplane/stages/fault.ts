/**
 * Fault stage, per attempt (below retry and timeout, where a real failure would be): each
 * matching fault's actions (`faults/registry.ts`) fire independently by their percent —
 * delay (`DI`), abort with a status (`FI`), connection reset (`FR`), bandwidth (`BW`).
 */
import type { FaultRule } from '../../config/model.js';
import type { FaultAction, FaultKind, FaultSettings } from '../faults/action.js';
import { FAULT_ACTIONS } from '../faults/registry.js';
import type { CompiledFault } from '../service-view.js';
import type { HopContext, Next, Outcome, Stage } from '../pipeline.js';

export const faultStage: Stage<HopContext> = {
  name: 'fault',
  handle(ctx, next) {
    const faults = ctx.route?.faults ?? ctx.service.faults;
    // No faults in force: no async frame (a promise and a microtask per call).
    if (faults.length === 0) {
      // The attempt was cancelled before it went upstream: nothing was sent.
      if (ctx.attemptSignal.aborted) return Promise.resolve({ kind: 'reset', injected: false });
      return next();
    }
    return injectFaults(ctx, next, faults);
  },
};

/** Applies the faults that match the call (by chance, as their percentages say). */
async function injectFaults(
  ctx: HopContext,
  next: Next,
  faults: readonly CompiledFault[],
): Promise<Outcome> {
  const input = { method: ctx.method, path: ctx.pathname, headers: ctx.headers as never };
  const hit = (percent: number) => percent >= 100 || ctx.random() * 100 < percent;
  const after: Array<{ action: FaultAction<FaultKind>; settings: FaultSettings<FaultKind> }> = [];
  // A route with faults of its own carries them with the runtime faults (see CompiledRoute).
  for (const { rule, match } of faults) {
    if (rule.version !== undefined && rule.version !== ctx.version) continue;
    if (!match.test(input)) continue;
    for (const action of FAULT_ACTIONS) {
      const settings = (rule as FaultRule)[action.kind];
      if (!settings || !hit(settings.percent)) continue;
      const answer = await action.before?.(settings, ctx);
      if (answer) return answer;
      if (action.after) after.push({ action, settings });
    }
  }
  if (ctx.attemptSignal.aborted) {
    return { kind: 'reset', injected: false } satisfies Outcome;
  }
  let outcome = await next();
  for (const { action, settings } of after) outcome = action.after!(settings, outcome, ctx);
  return outcome;
}
