import { text } from 'node:stream/consumers';
import { afterAll, describe, expect, it } from 'vitest';
import { deadPort, echo, startServer } from '../../../fixtures/servers/upstreams.js';
import { fakeContext, runtimeFor } from '../../../test/helpers/fake-context.js';
import { Forwarder } from '../forwarder.js';
import { upstreamStage } from './upstream.js';

const forwarder = new Forwarder();
afterAll(() => forwarder.destroy());

describe('upstream stage', () => {
  it('forwards to the instance target and claims no identity in a header', async () => {
    const server = await startServer(echo('api'));
    const runtime = runtimeFor('  api: { port: 1 }\n');
    runtime.setTarget('api', 'default', server.port);
    const ctx = fakeContext(runtime, 'api', { version: 'default', path: '/x?y=1', method: 'GET' });
    const outcome = await upstreamStage(forwarder).handle(ctx, () =>
      Promise.reject(new Error('terminal')),
    );
    if (outcome.kind !== 'response') throw new Error('expected a response');
    const body = JSON.parse(await text(outcome.body!)) as {
      url: string;
      headers: Record<string, string>;
    };
    expect(body.url).toBe('/x?y=1');
    expect(Object.keys(body.headers).filter((name) => name.startsWith('x-meshdev-'))).toEqual([]);
    await server.close();
  });

  it('answers 502 UF naming the port when nothing listens', async () => {
    const port = await deadPort();
    const runtime = runtimeFor('  api: { port: 1 }\n');
    runtime.setTarget('api', 'default', port);
    const ctx = fakeContext(runtime, 'api', { version: 'default' });
    const outcome = await upstreamStage(forwarder).handle(ctx, () =>
      Promise.reject(new Error('terminal')),
    );
    expect(outcome).toMatchObject({ status: 502, cause: 'connect-failure' });
    if (outcome.kind !== 'response') throw new Error('expected a response');
    expect(JSON.parse(await text(outcome.body!)).message).toContain(`127.0.0.1:${port}`);
    expect(ctx.flags.has('UF')).toBe(true);
  });
});
