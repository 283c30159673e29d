/**
 * The forwarder hands its result to the caller's `answer` as the promise settles: what
 * `answer` returns is what the caller gets, and an `answer` that throws rejects the
 * forward (the entry then resets that one call) instead of throwing into undici.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { deadPort, echo, startServer, type TestServer } from '../../fixtures/servers/upstreams.js';
import { Cancel } from '../lib/cancel.js';
import { Forwarder, type ForwardFailure, type ForwardRequest } from './forwarder.js';
import type { Outcome } from './pipeline.js';

const open: Array<TestServer | Forwarder> = [];
afterEach(async () => {
  for (const item of open.splice(0))
    await (item instanceof Forwarder ? item.destroy() : item.close());
});

const get = (): ForwardRequest => ({
  method: 'GET',
  path: '/x',
  headers: {},
  body: undefined,
  signal: new Cancel(),
});

function describeResult(result: Outcome | ForwardFailure): string {
  if (result.kind === 'response') {
    result.body?.resume();
    return `response ${result.status}`;
  }
  return result.kind === 'failure' ? `failure ${result.cause}` : result.kind;
}

describe('Forwarder.forward', () => {
  it('resolves with what `answer` makes of a response and of a failure', async () => {
    const app = await startServer(echo('app'));
    const forwarder = new Forwarder();
    open.push(app, forwarder);
    expect(await forwarder.forward(app.port, get(), describeResult)).toBe('response 200');
    expect(await forwarder.forward(await deadPort(), get(), describeResult)).toBe(
      'failure connect-failure',
    );
  });

  it('rejects with the error when `answer` throws, and the next call goes on', async () => {
    const app = await startServer(echo('app'));
    const forwarder = new Forwarder();
    open.push(app, forwarder);
    const broken = forwarder.forward(app.port, get(), (result) => {
      describeResult(result);
      throw new Error('answer broke');
    });
    await expect(broken).rejects.toThrow('answer broke');
    expect(await forwarder.forward(app.port, get(), describeResult)).toBe('response 200');
  });
});
