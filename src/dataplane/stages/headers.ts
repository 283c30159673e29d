/**
 * Headers stage (hop, after `split`): a route's `headers` change its calls before they go
 * on — to the version, the mirror, retries alike — and the answers on their way back, as
 * Istio's VirtualService `headers` do: `remove`, then `set` (replaces), then `add`
 * (appends a value). Answers the mesh makes itself are changed too, as Envoy changes its
 * local replies; a WebSocket handshake gets the request's changes only.
 */
import type { HeaderOperations } from '../../config/model.js';
import { SWITCHING_PROTOCOLS, type HopContext, type Outcome, type Stage } from '../pipeline.js';

export const headersStage: Stage<HopContext> = {
  name: 'headers',
  handle(ctx, next) {
    const operations = ctx.route?.rule.headers;
    if (!operations) return next();
    if (operations.request) applyHeaderOperations(ctx.headers, operations.request);
    const response = operations.response;
    if (!response) return next();
    return next().then((outcome): Outcome => {
      // A tunnel's 101 is one shared object, and its head is already written.
      if (outcome.kind === 'response' && outcome.status !== SWITCHING_PROTOCOLS)
        applyHeaderOperations(outcome.headers, response);
      return outcome;
    });
  },
};

/** Applies `operations` to `headers` (lower-case names): remove, set, then add. */
export function applyHeaderOperations(
  headers: Record<string, string | string[] | number | undefined>,
  operations: HeaderOperations,
): void {
  for (const name of operations.remove ?? []) delete headers[name];
  for (const name in operations.set) headers[name] = operations.set[name];
  for (const name in operations.add) {
    const prior = headers[name];
    const value = operations.add[name]!;
    headers[name] =
      prior === undefined ? value : [...(Array.isArray(prior) ? prior : [String(prior)]), value];
  }
}
