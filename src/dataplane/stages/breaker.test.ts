import { describe, expect, it } from 'vitest';
import {
  answers,
  fakeContext,
  manualClock,
  runtimeFor,
} from '../../../test/helpers/fake-context.js';
import { breakerStage } from './breaker.js';

describe('breaker stage', () => {
  it('opens after consecutive errors, answers 503 UO, then lets one probe through', async () => {
    const clock = manualClock();
    const runtime = runtimeFor(
      '  api: { port: 1, circuitBreaker: { consecutiveErrors: 2, openFor: 1s } }\n',
      clock,
    );
    const call = (next = answers(500)) =>
      breakerStage.handle(fakeContext(runtime, 'api', { version: 'default' }), next);
    await call();
    await call();
    const refused = answers(200);
    expect(await call(refused)).toMatchObject({
      status: 503,
      headers: { 'x-meshdev-error': 'circuit_open' },
    });
    expect(refused.calls).toBe(0);
    clock.advance(1000);
    expect(await call(answers(200))).toMatchObject({ status: 200 });
    expect(await call(answers(200))).toMatchObject({ status: 200 });
  });

  it('a failed probe opens it again', async () => {
    const clock = manualClock();
    const runtime = runtimeFor(
      '  api: { port: 1, circuitBreaker: { consecutiveErrors: 1, openFor: 1s } }\n',
      clock,
    );
    const call = (next = answers(500)) =>
      breakerStage.handle(fakeContext(runtime, 'api', { version: 'default' }), next);
    await call();
    clock.advance(1000);
    await call(answers(503));
    expect(await call(answers(200))).toMatchObject({ status: 503 });
  });

  it('refuses calls over maxConcurrent at once with overflow', async () => {
    const runtime = runtimeFor('  api: { port: 1, circuitBreaker: { maxConcurrent: 1 } }\n');
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const first = breakerStage.handle(
      fakeContext(runtime, 'api', { version: 'default' }),
      async () => {
        await slow;
        return answers(200)();
      },
    );
    const second = await breakerStage.handle(
      fakeContext(runtime, 'api', { version: 'default' }),
      answers(200),
    );
    expect(second).toMatchObject({ status: 503, headers: { 'x-meshdev-error': 'overflow' } });
    release();
    expect(await first).toMatchObject({ status: 200 });
  });
});
