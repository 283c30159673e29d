import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import {
  answers,
  fakeContext,
  manualClock,
  runtimeFor,
} from '../../../test/helpers/fake-context.js';
import { seededRandom } from '../../lib/random.js';
import { faultStage } from './fault.js';

describe('fault stage', () => {
  it('aborts with the configured status and FI, without calling upstream', async () => {
    const runtime = runtimeFor('  api: { port: 1, faults: [{ abort: 418 }] }\n');
    const ctx = fakeContext(runtime, 'api');
    const next = answers(200);
    const outcome = await faultStage.handle(ctx, next);
    expect(outcome).toMatchObject({ status: 418, headers: { 'x-meshdev-error': 'fault_abort' } });
    expect(next.calls).toBe(0);
    expect([...ctx.flags]).toEqual(['FI']);
    if (outcome.kind !== 'response') throw new Error('expected a response');
    expect(JSON.parse(await text(outcome.body!))).toMatchObject({
      error: 'fault_abort',
      flags: ['FI'],
    });
  });

  it('delays by the configured duration with DI, then calls upstream', async () => {
    const runtime = runtimeFor('  api: { port: 1, faults: [{ delay: 250ms }] }\n');
    const clock = manualClock();
    const ctx = fakeContext(runtime, 'api', { clock });
    expect(await faultStage.handle(ctx, answers(200))).toMatchObject({ status: 200 });
    expect(clock.slept).toEqual([250]);
    expect(ctx.flags.has('DI')).toBe(true);
  });

  it('resets with FR', async () => {
    const runtime = runtimeFor('  api: { port: 1, faults: [{ reset: true }] }\n');
    const ctx = fakeContext(runtime, 'api');
    expect(await faultStage.handle(ctx, answers(200))).toEqual({ kind: 'reset', injected: true });
    expect(ctx.flags.has('FR')).toBe(true);
  });

  it('fires by its percent: 20% of 5,000 seeded calls within 2 points', async () => {
    const runtime = runtimeFor(
      '  api: { port: 1, faults: [{ abort: { status: 503, percent: 20 } }] }\n',
    );
    const random = seededRandom(99);
    let aborted = 0;
    for (let i = 0; i < 5000; i++) {
      const outcome = await faultStage.handle(
        fakeContext(runtime, 'api', { random }),
        answers(200),
      );
      if (outcome.kind === 'response' && outcome.status === 503) aborted++;
    }
    expect(Math.abs(aborted / 50 - 20)).toBeLessThan(2);
  });

  it('applies only to matching requests and versions', async () => {
    const runtime = runtimeFor(
      '  api: { port: 1, faults: [{ match: { method: POST, path: /charges }, abort: 503 }] }\n',
    );
    expect(
      await faultStage.handle(
        fakeContext(runtime, 'api', { method: 'GET', pathname: '/charges' }),
        answers(200),
      ),
    ).toMatchObject({ status: 200 });
    expect(
      await faultStage.handle(
        fakeContext(runtime, 'api', { method: 'POST', pathname: '/charges' }),
        answers(200),
      ),
    ).toMatchObject({ status: 503 });
    const versioned = runtimeFor('  pay:\n    versions: { v1: { port: 1 }, v2: { port: 2 } }\n');
    versioned.addFault({ service: 'pay', version: 'v2', abort: { status: 500, percent: 100 } });
    expect(
      await faultStage.handle(fakeContext(versioned, 'pay', { version: 'v1' }), answers(200)),
    ).toMatchObject({ status: 200 });
    expect(
      await faultStage.handle(fakeContext(versioned, 'pay', { version: 'v2' }), answers(200)),
    ).toMatchObject({ status: 500 });
  });

  it('throttles the body with BW', async () => {
    const runtime = runtimeFor('  api: { port: 1, faults: [{ bandwidth: 100KiB }] }\n');
    const ctx = fakeContext(runtime, 'api');
    const outcome = await faultStage.handle(ctx, answers(200));
    expect(ctx.flags.has('BW')).toBe(true);
    if (outcome.kind !== 'response') throw new Error('expected a response');
    expect(await text(outcome.body!)).toBe('ok');
  });
});
