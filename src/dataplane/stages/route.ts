/**
 * Route stage: the first matching route wins; none → 404 `NR`. A matched route's own
 * policy (timeout here; retries and faults in their stages) overrides the service's.
 */
import { errorOutcome } from '../error-outcome.js';
import type { HopContext, Stage } from '../pipeline.js';

export const routeStage: Stage<HopContext> = {
  name: 'route',
  handle(ctx, next) {
    const { routes, splitOverride } = ctx.service;
    const input = { method: ctx.method, path: ctx.pathname, headers: ctx.headers as never };
    const route = routes.find((candidate) => candidate.match.test(input));
    if (route) {
      ctx.routeIndex = route.index;
      ctx.route = route;
      ctx.routeTemplate = route.match.template ?? ctx.routeTemplate;
      // The route's timeout replaces the service's whole-call deadline (`0s`: none).
      const timeoutMs = route.rule.timeoutMs;
      if (timeoutMs !== undefined)
        ctx.deadline = timeoutMs > 0 ? ctx.startedAt + timeoutMs : undefined;
      return next();
    }
    // No routes at all (or a runtime split acting as the default): the implicit route.
    if (routes.length === 0 || splitOverride || ctx.pinnedVersion) {
      ctx.routeIndex = -1;
      return next();
    }
    ctx.flags.add('NR');
    return Promise.resolve(
      errorOutcome('no_route', {
        service: ctx.service.name,
        path: `${ctx.method} ${ctx.pathname}`,
      }),
    );
  },
};
