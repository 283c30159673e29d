import { describe, expect, it } from 'vitest';
import { manualClock, runtimeFor } from '../../test/helpers/fake-context.js';
import { admitFault } from '../controlplane/admission.js';
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
});
