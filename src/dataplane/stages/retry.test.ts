import { describe, expect, it } from 'vitest';
import {
  answers,
  fakeContext,
  manualClock,
  runtimeFor,
} from '../../../test/helpers/fake-context.js';
import { retryStage, shouldRetry } from './retry.js';

const runtime = runtimeFor('  api: { port: 1, retries: { attempts: 2, retryOn: [5xx, reset] } }\n');

describe('retry stage', () => {
  it('retries a 503 twice, then answers 200 on the third attempt', async () => {
    const clock = manualClock();
    const ctx = fakeContext(runtime, 'api', { clock });
    const next = answers(503, 503, 200);
    expect(await retryStage.handle(ctx, next)).toMatchObject({ status: 200 });
    expect(ctx.attempts).toBe(3);
    expect(ctx.flags.has('URX')).toBe(false);
    // Jittered exponential backoff: below 25 ms, then below 50 ms.
    expect(clock.slept).toHaveLength(2);
    expect(clock.slept[0]).toBeLessThan(25);
    expect(clock.slept[1]).toBeLessThan(50);
  });

  it('retries a 503 twice, then answers 503 with URX', async () => {
    const ctx = fakeContext(runtime, 'api');
    const next = answers(503);
    expect(await retryStage.handle(ctx, next)).toMatchObject({ status: 503 });
    expect(next.calls).toBe(3);
    expect(ctx.flags.has('URX')).toBe(true);
  });

  it('does not retry a 404 or a streamed body', async () => {
    const ctx = fakeContext(runtime, 'api');
    const notFound = answers(404);
    await retryStage.handle(ctx, notFound);
    expect(notFound.calls).toBe(1);
    const streamed = fakeContext(runtime, 'api', {
      body: { kind: 'stream', stream: undefined as never, bytesSoFar: () => 100_000 },
    });
    const failing = answers(503);
    await retryStage.handle(streamed, failing);
    expect(failing.calls).toBe(1);
  });

  it('stops when the whole-call deadline leaves no room', async () => {
    const clock = manualClock();
    const ctx = fakeContext(runtime, 'api', { clock, deadline: clock.now() });
    const next = answers(503);
    await retryStage.handle(ctx, next);
    expect(next.calls).toBe(1);
  });

  it('reads retry conditions like Envoy', () => {
    const response = (status: number, cause?: 'connect-failure') =>
      ({ kind: 'response', status, headers: {}, body: null, cause }) as const;
    expect(shouldRetry(response(502), ['gateway-error'])).toBe(true);
    expect(shouldRetry(response(500), ['gateway-error'])).toBe(false);
    expect(shouldRetry(response(429), [429])).toBe(true);
    expect(shouldRetry({ kind: 'reset', injected: true }, ['reset'])).toBe(true);
    expect(shouldRetry(response(502, 'connect-failure'), ['connect-failure'])).toBe(true);
    expect(shouldRetry(response(200), ['5xx', 'reset'])).toBe(false);
  });
});
