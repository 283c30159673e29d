import { describe, expect, it } from 'vitest';
import { endpointOf, templatePath } from './endpoint.js';

describe('endpoints', () => {
  it('groups id-like segments: numbers, UUIDs, long hex', () => {
    expect(templatePath('/users/1')).toBe('/users/:id');
    expect(templatePath('/users/42/orders/7f9c2ba4e88f827d616045507605853e')).toBe(
      '/users/:id/orders/:id',
    );
    expect(templatePath('/carts/3f2504e0-4f89-11d3-9a0c-0305e82c3301/items')).toBe(
      '/carts/:id/items',
    );
    expect(templatePath('/v2/users/me?x=1')).toBe('/v2/users/me');
    expect(templatePath('/beef')).toBe('/beef');
  });

  it("prefers the callee's OpenAPI operation", () => {
    expect(endpointOf({ operation: 'GET /users/{id}', method: 'GET', route: '/users/1' })).toBe(
      'GET /users/{id}',
    );
    expect(endpointOf({ method: 'GET', route: '/users/2' })).toBe('GET /users/:id');
    expect(endpointOf({ method: 'GET', route: '/api*', path: '/api/users/3?x=1' })).toBe(
      'GET /api/users/:id',
    );
  });
});
