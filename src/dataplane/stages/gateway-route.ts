/**
 * Gateway-route stage: the longest gateway route prefix (on a segment boundary) picks the
 * service, optionally strips the prefix, and may pin a version; none → 404 `NR`. The
 * caller is `gateway`, or `load` for the built-in load generator's marked requests.
 */
import type { GatewayConfig, GatewayRoute } from '../../config/model.js';
import { LOAD_HEADER } from '../../sim/load-header.js';
import type { EntryContext } from '../entry-context.js';
import { errorOutcome } from '../error-outcome.js';
import type { Stage } from '../pipeline.js';

/** A gateway route with the strings matching needs, built once when the stage is built. */
export interface CompiledRoute {
  route: GatewayRoute;
  /** The path without a trailing slash (`/` stays `/`). */
  prefix: string;
  /** The prefix and a slash: a longer path must start with it (a segment boundary). */
  withSlash: string;
  /** `/api/*`: the route as call records name it. */
  template: string;
}

/** Every request tries every route: their strings are built once, not per request. */
export function compileRoutes(routes: readonly GatewayRoute[]): CompiledRoute[] {
  return routes.map((route) => {
    const prefix =
      route.path.endsWith('/') && route.path !== '/' ? route.path.slice(0, -1) : route.path;
    return { route, prefix, withSlash: `${prefix}/`, template: `${route.path}*` };
  });
}

/** The route for a path: longest prefix on a segment boundary wins. */
export function matchGatewayRoute(
  routes: readonly CompiledRoute[],
  pathname: string,
): CompiledRoute | undefined {
  let best: CompiledRoute | undefined;
  for (const compiled of routes) {
    const { prefix } = compiled;
    const matches =
      prefix === '/' || pathname === prefix || pathname.startsWith(compiled.withSlash);
    if (matches && (!best || prefix.length > best.prefix.length)) best = compiled;
  }
  return best;
}

/** The path sent upstream: the prefix removed when the route's `stripPrefix` is set. */
export function upstreamPath(compiled: CompiledRoute, path: string): string {
  if (!compiled.route.stripPrefix || compiled.prefix === '/') return path;
  const rest = path.slice(compiled.prefix.length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}

/**
 * Builds the gateway-route stage; `loadToken` marks the mesh's own generated load. The
 * gateway's listener is rebuilt when its config changes, so its routes are compiled here.
 */
export function gatewayRouteStage(
  gateway: Pick<GatewayConfig, 'routes'>,
  loadToken: string,
): Stage<EntryContext> {
  const routes = compileRoutes(gateway.routes);
  return {
    name: 'gateway-route',
    handle(ctx, next) {
      // Read from the raw headers: `normalize` strips x-meshdev-* from what is forwarded.
      ctx.caller = ctx.req.headers[LOAD_HEADER] === loadToken ? 'load' : 'gateway';
      const compiled = matchGatewayRoute(routes, ctx.pathname);
      if (!compiled) {
        ctx.flags.add('NR');
        return Promise.resolve(
          errorOutcome('gateway_no_route', { service: 'gateway', path: ctx.pathname }),
        );
      }
      const { route } = compiled;
      ctx.route = route;
      ctx.target = {
        service: route.service,
        pinnedVersion: route.version,
        routeTemplate: compiled.template,
      };
      ctx.path = upstreamPath(compiled, ctx.path);
      ctx.pathname = upstreamPath(compiled, ctx.pathname);
      return next();
    },
  };
}
