/**
 * The gateway: the edge for clients outside the mesh. Routes by the longest matching
 * path prefix to a service (optionally stripping the prefix), then runs the outbound hop
 * as the caller `gateway`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { GatewayConfig, GatewayRoute } from '../config/model.js';
import { errorOutcome } from './error-outcome.js';
import { handleHop, type HopDeps } from './hop.js';
import { respond } from './respond.js';
import { LOAD_HEADER } from '../sim/load.js';

/** The route for a path: longest prefix on a segment boundary wins. */
export function matchGatewayRoute(
  routes: readonly GatewayRoute[],
  path: string,
): GatewayRoute | undefined {
  const pathname = path.split('?')[0]!;
  let best: GatewayRoute | undefined;
  for (const route of routes) {
    const prefix =
      route.path.endsWith('/') && route.path !== '/' ? route.path.slice(0, -1) : route.path;
    const matches = prefix === '/' || pathname === prefix || pathname.startsWith(`${prefix}/`);
    if (matches && (!best || prefix.length > best.path.length)) best = route;
  }
  return best;
}

/** The path sent upstream: the prefix removed when `stripPrefix` is set. */
export function upstreamPath(route: GatewayRoute, path: string): string {
  if (!route.stripPrefix || route.path === '/') return path;
  const prefix = route.path.endsWith('/') ? route.path.slice(0, -1) : route.path;
  const rest = path.slice(prefix.length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}

/** Builds the gateway's request handler. */
export function gatewayHandler(
  gateway: GatewayConfig,
  deps: HopDeps,
  loadToken: string,
  proto: 'http' | 'https' = 'http',
) {
  return (req: IncomingMessage, res: ServerResponse) => {
    // Generated load carries the mesh's token and is recorded as the caller `load`.
    const caller = req.headers[LOAD_HEADER] === loadToken ? 'load' : 'gateway';
    const path = req.url ?? '/';
    const route = matchGatewayRoute(gateway.routes, path);
    if (!route) {
      req.resume();
      return void respond(req, res, errorOutcome('gateway_no_route', { service: 'gateway', path }));
    }
    return handleHop(
      deps,
      {
        caller,
        service: route.service,
        path: upstreamPath(route, path),
        pinnedVersion: route.version,
        routeTemplate: `${route.path}*`,
        proto,
      },
      req,
      res,
    );
  };
}

/** Routes a WebSocket upgrade through the gateway. */
export function gatewayUpgrade(
  gateway: GatewayConfig,
  tunnel: (
    service: string,
    req: IncomingMessage,
    socket: Socket,
    head: Buffer,
    pinned?: string,
  ) => void,
) {
  return (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const route = matchGatewayRoute(gateway.routes, req.url ?? '/');
    if (!route) return socket.destroy();
    req.url = upstreamPath(route, req.url ?? '/');
    tunnel(route.service, req, socket, head, route.version);
  };
}
