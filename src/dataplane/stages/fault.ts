/**
 * Fault stage, per attempt (below retry and timeout, where a real failure would be): each
 * matching fault's actions (`faults/registry.ts`) fire independently by their percent —
 * delay (`DI`), abort with a status (`FI`), connection reset (`FR`), bandwidth (`BW`).
 */
import type { FaultRule } from '../../config/model.js';
import type { FaultAction, FaultKind, FaultSettings } from '../faults/action.js';
import { FAULT_ACTIONS } from '../faults/registry.js';
import type { HopContext, Outcome, Stage } from '../pipeline.js';
import type { CompiledFault } from '../service-view.js';

export const faultStage: Stage<HopContext> = {
  name: 'fault',
  async handle(ctx, next) {
    const input = { method: ctx.method, path: ctx.pathname, headers: ctx.headers as never };
    const hit = (percent: number) => percent >= 100 || ctx.random() * 100 < percent;
    const after: Array<{ action: FaultAction<FaultKind>; settings: FaultSettings<FaultKind> }> = [];
    for (const { rule, match } of faultsOf(ctx)) {
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
  },
};

/**
 * The faults of this call: the service's, or — on a route that declares its own — the
 * route's in place of the service's file faults (runtime faults apply either way).
 */
function faultsOf(ctx: HopContext): readonly CompiledFault[] {
  const own = ctx.route?.faults;
  if (!own) return ctx.service.faults;
  return [...own, ...ctx.service.faults.filter((fault) => !fault.rule.id.startsWith('file:'))];
}
