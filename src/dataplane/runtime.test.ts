import { describe, expect, it } from 'vitest';
import { manualClock, runtimeFor } from '../../test/helpers/fake-context.js';
import { admitFault, admitRoute } from '../controlplane/admission.js';
import { RuntimeChangeError } from './runtime.js';

const SERVICES = `  pay:
    versions: { v1: { port: 1 }, v2: { port: 2 } }
    routes:
      - match: { headers: { x-canary: "1" } }
        to: v1
      - to: v2
`;

describe('runtime overlays', () => {
  it('a fault added for 3s is in force until then and gone after, by the injected clock', () => {
    const clock = manualClock(1_000_000);
    const runtime = runtimeFor(SERVICES, clock);
    const added = admitFault(runtime, { service: 'pay', abort: 503, for: '3s' }, clock.now());
    expect(added.expiresAt).toBe(1_003_000);
    clock.advance(2_999);
    expect(runtime.view('pay')!.faults).toHaveLength(1);
    clock.advance(1);
    expect(runtime.view('pay')!.faults).toHaveLength(0);
    expect(runtime.state()[0]!.faults).toEqual([]);
  });

  it('a change that cannot compile leaves overlays and view as they were', () => {
    const runtime = runtimeFor(SERVICES);
    const before = runtime.view('pay');
    expect(() =>
      runtime.addFault({
        service: 'pay',
        match: { headers: { 'x-a': { regex: '([' } } },
        abort: { status: 503, percent: 100 },
      }),
    ).toThrow(RuntimeChangeError);
    expect(runtime.view('pay')).toBe(before);
    expect(runtime.state()[0]!.faults).toEqual([]);
  });

  it('a runtime split replaces the default `to:` route and keeps matched routes', () => {
    const runtime = runtimeFor(SERVICES);
    runtime.setSplit('pay', { v1: 30, v2: 70 });
    const routes = runtime.view('pay')!.routes;
    expect(routes[0]).toMatchObject({ to: 'v1', split: undefined });
    expect(routes[1]).toMatchObject({
      to: undefined,
      split: [
        { version: 'v1', weight: 30 },
        { version: 'v2', weight: 70 },
      ],
    });
  });

  it('a runtime route is matched before the file routes, and goes away by id', () => {
    const runtime = runtimeFor(SERVICES);
    const added = admitRoute(runtime, {
      service: 'pay',
      match: { headers: { 'end-user': 'jason' } },
      to: 'v1',
    });
    expect(added).toMatchObject({ id: 'rr-1', name: 'rr-1', to: 'v1' });
    const routes = runtime.view('pay')!.routes;
    expect(routes.map((route) => route.rule.name)).toEqual(['rr-1', '#0', '#1']);
    const jason = { method: 'GET', path: '/', headers: { 'end-user': 'jason' } as never };
    expect(routes.find((route) => route.match.test(jason))!.rule.name).toBe('rr-1');
    expect(runtime.state()[0]!.routes).toMatchObject([{ id: 'rr-1', to: 'v1' }]);
    expect(runtime.removeRoute('rr-1')).toBe(true);
    expect(runtime.removeRoute('rr-1')).toBe(false);
    expect(runtime.view('pay')!.routes).toHaveLength(2);
  });

  it('refuses a runtime route to a version that does not exist, a bad split, or a bad regex', () => {
    const runtime = runtimeFor(SERVICES);
    const before = runtime.view('pay');
    expect(() => admitRoute(runtime, { service: 'pay', to: 'v9' })).toThrow(/no version "v9"/);
    expect(() => admitRoute(runtime, { service: 'pay', split: { v1: 50, v2: 40 } })).toThrow(
      /sum to 90/,
    );
    expect(() => admitRoute(runtime, { service: 'pay' })).toThrow(/to.*or.*split/);
    expect(() =>
      admitRoute(runtime, {
        service: 'pay',
        match: { headers: { 'x-a': { regex: '([' } } },
        to: 'v1',
      }),
    ).toThrow(RuntimeChangeError);
    expect(runtime.view('pay')).toBe(before);
    expect(runtime.state()[0]!.routes).toEqual([]);
  });
});
