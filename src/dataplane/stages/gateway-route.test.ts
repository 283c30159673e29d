import { describe, expect, it } from 'vitest';
import type { GatewayRoute } from '../../config/model.js';
import { compileRoutes, matchGatewayRoute, upstreamPath } from './gateway-route.js';

const route = (path: string, stripPrefix = false) =>
  ({ path, service: path, stripPrefix }) as unknown as GatewayRoute;
const compiled = (one: GatewayRoute) => compileRoutes([one])[0]!;

describe('gateway routes', () => {
  const root = route('/');
  const api = route('/api');
  const v2 = route('/api/v2/', true);
  const routes = compileRoutes([root, api, v2]);
  const matched = (pathname: string, among = routes) => matchGatewayRoute(among, pathname)?.route;

  it('picks the longest prefix that ends on a segment boundary', () => {
    expect(matched('/api/v2/users')).toBe(v2);
    expect(matched('/api/v2')).toBe(v2);
    expect(matched('/api/v20')).toBe(api);
    expect(matched('/api')).toBe(api);
    expect(matched('/apix')).toBe(root);
    expect(matched('/other', compileRoutes([api, v2]))).toBeUndefined();
    // The same answers again: what is worked out once per route is kept right.
    expect(matched('/api/v2/users')).toBe(v2);
    expect(matched('/apix')).toBe(root);
  });

  it('names the route as call records do, and strips the prefix only when it says so', () => {
    expect(compiled(v2).template).toBe('/api/v2/*');
    expect(upstreamPath(compiled(v2), '/api/v2/users?page=2')).toBe('/users?page=2');
    expect(upstreamPath(compiled(v2), '/api/v2')).toBe('/');
    expect(upstreamPath(compiled(api), '/api/users')).toBe('/api/users');
    expect(upstreamPath(compiled(route('/', true)), '/x')).toBe('/x');
  });
});
