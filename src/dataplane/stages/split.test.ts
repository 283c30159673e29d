import { describe, expect, it } from 'vitest';
import { answers, fakeContext, runtimeFor } from '../../../test/helpers/fake-context.js';
import { seededRandom } from '../../lib/random.js';
import { pickWeighted, splitStage } from './split.js';

describe('split stage', () => {
  it('follows the weights exactly enough over 10,000 seeded picks', () => {
    const random = seededRandom(42);
    let v2 = 0;
    for (let i = 0; i < 10_000; i++) {
      if (
        pickWeighted(
          [
            { version: 'v1', weight: 87.5 },
            { version: 'v2', weight: 12.5 },
          ],
          random,
        ) === 'v2'
      )
        v2++;
    }
    expect(v2 / 100).toBeGreaterThan(11.5);
    expect(v2 / 100).toBeLessThan(13.5);
  });

  it('never picks a zero weight', () => {
    const random = seededRandom(7);
    for (let i = 0; i < 1000; i++) {
      expect(
        pickWeighted(
          [
            { version: 'v1', weight: 100 },
            { version: 'v2', weight: 0 },
          ],
          random,
        ),
      ).toBe('v1');
    }
  });

  it('a pinned version wins over the route, and to: wins over weights', async () => {
    const runtime = runtimeFor(`
  pay:
    versions: { v1: { port: 1 }, v2: { port: 2 } }
    routes: [{ to: v2 }]
`);
    const pinned = fakeContext(runtime, 'pay', { pinnedVersion: 'v1', routeIndex: 0 });
    await splitStage.handle(pinned, answers(200));
    expect(pinned.version).toBe('v1');
    const routed = fakeContext(runtime, 'pay', { routeIndex: 0 });
    await splitStage.handle(routed, answers(200));
    expect(routed.version).toBe('v2');
  });

  it('a runtime split replaces the file split', async () => {
    const runtime = runtimeFor(`
  pay:
    versions: { v1: { port: 1 }, v2: { port: 2 } }
    routes: [{ split: { v1: 100, v2: 0 } }]
`);
    runtime.setSplit('pay', { v1: 0, v2: 100 });
    const ctx = fakeContext(runtime, 'pay', { routeIndex: 0 });
    await splitStage.handle(ctx, answers(200));
    expect(ctx.version).toBe('v2');
  });

  it('a route without to or split keeps every version, evenly', async () => {
    const runtime = runtimeFor(`
  pay:
    versions: { v1: { port: 1 }, v2: { port: 2 } }
    routes: [{ match: { method: POST }, timeout: 1s }, { to: v1 }]
`);
    const seen = new Set<string>();
    const random = seededRandom(3);
    for (let i = 0; i < 50; i++) {
      const ctx = fakeContext(runtime, 'pay', { routeIndex: 0, random });
      await splitStage.handle(ctx, answers(200));
      seen.add(ctx.version!);
    }
    expect([...seen].sort()).toEqual(['v1', 'v2']);
  });
});
