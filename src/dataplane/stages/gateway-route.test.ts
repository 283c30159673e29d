import { describe, expect, it } from 'vitest';
import type { GatewayRoute } from '../../config/model.js';
import { matchGatewayRoute, upstreamPath } from './gateway-route.js';

const route = (path: string, stripPrefix = false) =>
  ({ path, service: path, stripPrefix }) as unknown as GatewayRoute;

describe('gateway routes', () => {
  const root = route('/');
  const api = route('/api');
  const v2 = route('/api/v2/', true);
  const routes = [root, api, v2];

  it('picks the longest prefix that ends on a segment boundary', () => {
    expect(matchGatewayRoute(routes, '/api/v2/users')).toBe(v2);
    expect(matchGatewayRoute(routes, '/api/v2')).toBe(v2);
    expect(matchGatewayRoute(routes, '/api/v20')).toBe(api);
    expect(matchGatewayRoute(routes, '/api')).toBe(api);
    expect(matchGatewayRoute(routes, '/apix')).toBe(root);
    expect(matchGatewayRoute([api, v2], '/other')).toBeUndefined();
    // The same answers again: what is worked out once per route is kept right.
    expect(matchGatewayRoute(routes, '/api/v2/users')).toBe(v2);
    expect(matchGatewayRoute(routes, '/apix')).toBe(root);
  });

  it('strips the prefix only when the route says so', () => {
    expect(upstreamPath(v2, '/api/v2/users?page=2')).toBe('/users?page=2');
    expect(upstreamPath(v2, '/api/v2')).toBe('/');
    expect(upstreamPath(api, '/api/users')).toBe('/api/users');
    expect(upstreamPath(route('/', true), '/x')).toBe('/x');
  });
});
