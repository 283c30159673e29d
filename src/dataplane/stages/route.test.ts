import { describe, expect, it } from 'vitest';
import { answers, fakeContext, runtimeFor } from '../../../test/helpers/fake-context.js';
import { routeStage } from './route.js';

const runtime = runtimeFor(`
  pay:
    versions: { v1: { port: 1 }, v2: { port: 2 } }
    routes:
      - match: { headers: { x-canary: "1" } }
        to: v2
      - match: { path: /items/:id }
        to: v1
`);

describe('route stage', () => {
  it('picks the first matching route and records its template', async () => {
    const ctx = fakeContext(runtime, 'pay', { pathname: '/items/7', headers: { 'x-canary': '1' } });
    await routeStage.handle(ctx, answers(200));
    expect(ctx.routeIndex).toBe(0);
    const second = fakeContext(runtime, 'pay', { pathname: '/items/7' });
    await routeStage.handle(second, answers(200));
    expect(second.routeIndex).toBe(1);
    expect(second.routeTemplate).toBe('/items/:id');
  });

  it('answers 404 NR when no route matches', async () => {
    const ctx = fakeContext(runtime, 'pay', { pathname: '/other' });
    const next = answers(200);
    const outcome = await routeStage.handle(ctx, next);
    expect(next.calls).toBe(0);
    expect(outcome).toMatchObject({
      kind: 'response',
      status: 404,
      headers: { 'x-meshdev-error': 'no_route' },
    });
    expect([...ctx.flags]).toEqual(['NR']);
  });

  it('uses the implicit route when a service has no routes', async () => {
    const plain = runtimeFor('  api: { port: 1 }\n');
    const ctx = fakeContext(plain, 'api', { pathname: '/anything' });
    const outcome = await routeStage.handle(ctx, answers(200));
    expect(outcome).toMatchObject({ status: 200 });
    expect(ctx.routeIndex).toBe(-1);
  });
});
