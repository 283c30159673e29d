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

/** The route for a path: longest prefix on a segment boundary wins. */
export function matchGatewayRoute(
  routes: readonly GatewayRoute[],
  pathname: string,
): GatewayRoute | undefined {
  let best: GatewayRoute | undefined;
  let bestLength = -1;
  for (const route of routes) {
    const { prefix, withSlash } = shapeOf(route);
    const matches = prefix === '/' || pathname === prefix || pathname.startsWith(withSlash);
    if (matches && prefix.length > bestLength) {
      best = route;
      bestLength = prefix.length;
    }
  }
  return best;
}

/** The path sent upstream: the prefix removed when `stripPrefix` is set. */
export function upstreamPath(route: GatewayRoute, path: string): string {
  if (!route.stripPrefix || route.path === '/') return path;
  const rest = path.slice(shapeOf(route).prefix.length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}

/** A route's path as matching uses it, worked out once per route object of the config. */
interface RouteShape {
  /** The path without a trailing slash (`/` stays `/`). */
  prefix: string;
  /** The prefix and a slash: a longer path must start with it (a segment boundary). */
  withSlash: string;
  /** `/api/*`: the route as call records name it. */
  template: string;
}

const shapes = new WeakMap<GatewayRoute, RouteShape>();

/** Every request tries every route: their strings are built once, not per request. */
function shapeOf(route: GatewayRoute): RouteShape {
  let shape = shapes.get(route);
  if (!shape) {
    const prefix =
      route.path.endsWith('/') && route.path !== '/' ? route.path.slice(0, -1) : route.path;
    shape = { prefix, withSlash: `${prefix}/`, template: `${route.path}*` };
    shapes.set(route, shape);
  }
  return shape;
}

/** Builds the gateway-route stage; `loadToken` marks the mesh's own generated load. */
export function gatewayRouteStage(
  gateway: Pick<GatewayConfig, 'routes'>,
  loadToken: string,
): Stage<EntryContext> {
  return {
    name: 'gateway-route',
    handle(ctx, next) {
      // Read from the raw headers: `normalize` strips x-meshdev-* from what is forwarded.
      ctx.caller = ctx.req.headers[LOAD_HEADER] === loadToken ? 'load' : 'gateway';
      const route = matchGatewayRoute(gateway.routes, ctx.pathname);
      if (!route) {
        ctx.flags.add('NR');
        return Promise.resolve(
          errorOutcome('gateway_no_route', { service: 'gateway', path: ctx.pathname }),
        );
      }
      ctx.route = route;
      ctx.target = {
        service: route.service,
        pinnedVersion: route.version,
        routeTemplate: shapeOf(route).template,
      };
      ctx.path = upstreamPath(route, ctx.path);
      ctx.pathname = upstreamPath(route, ctx.pathname);
      return next();
    },
  };
}
