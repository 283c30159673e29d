import { describe, expect, it } from 'vitest';
import { answers, fakeContext, runtimeFor } from '../../../test/helpers/fake-context.js';
import { realClock } from '../pipeline.js';
import { timeoutStage } from './timeout.js';

describe('timeout stage', () => {
  it('answers 504 UT when the attempt outlives perTryTimeout, and aborts it', async () => {
    const runtime = runtimeFor(
      '  api: { port: 1, retries: { attempts: 0, perTryTimeout: 50ms } }\n',
    );
    const ctx = fakeContext(runtime, 'api', { clock: realClock });
    let aborted = false;
    const started = Date.now();
    const outcome = await timeoutStage.handle(
      ctx,
      () =>
        new Promise((resolve) => {
          ctx.attemptSignal.onAbort(() => {
            aborted = true;
            resolve({ kind: 'reset', injected: false });
          });
        }),
    );
    expect(outcome).toMatchObject({
      status: 504,
      headers: { 'x-meshdev-error': 'upstream_timeout' },
      cause: 'timeout',
    });
    expect(aborted).toBe(true);
    expect(ctx.flags.has('UT')).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('bounds the attempt by what is left of the whole-call deadline', async () => {
    const runtime = runtimeFor(
      '  api: { port: 1, retries: { attempts: 0, perTryTimeout: 10s } }\n',
    );
    const ctx = fakeContext(runtime, 'api', { clock: realClock, deadline: Date.now() + 30 });
    const outcome = await timeoutStage.handle(ctx, () => new Promise(() => {}));
    expect(outcome).toMatchObject({ status: 504 });
  });

  it('lets a fast answer through untouched', async () => {
    const runtime = runtimeFor('  api: { port: 1, timeout: 1s }\n');
    const ctx = fakeContext(runtime, 'api', { clock: realClock, deadline: Date.now() + 1000 });
    expect(await timeoutStage.handle(ctx, answers(201))).toMatchObject({ status: 201 });
  });
});
