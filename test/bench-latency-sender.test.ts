import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { javascriptSender, latencyAtRate, nativeSender, type Sender } from '../bench/measure.js';

// The bench's fixed-rate senders (bench/open-loop.c and bench/open-loop.mjs) keep one
// contract: RATE × SECONDS requests recorded after a warm-up, each timed from when it was
// due, the given headers on every request, error responses counted.

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function serve(handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/probe`;
}

function native(): Sender | string {
  try {
    return nativeSender();
  } catch (error) {
    return (error as Error).message;
  }
}

const built = native();
const senders: Array<[string, Sender | string]> = [
  ['javascript', javascriptSender()],
  ['native', built],
];

/** Each response waits this long: no latency the sender records can be shorter. */
const DELAY_MS = 40;

describe.each(senders)('the %s latency sender', (_name, sender) => {
  const skip = typeof sender === 'string' ? sender : undefined;
  if (skip) console.warn(`skipped: ${skip} (apt-get install gcc libcurl4-openssl-dev)`);

  it.skipIf(skip)(
    'records rate × seconds requests, each with the headers, timed from its due time',
    async () => {
      let withHeader = 0;
      let without = 0;
      const url = await serve((req, res) => {
        if (req.headers['x-probe'] === 'yes') withHeader++;
        else without++;
        setTimeout(() => res.end('ok'), DELAY_MS);
      });
      const latency = await latencyAtRate(url, 50, 1, { 'x-probe': 'yes' }, sender as Sender);
      expect(latency.sent).toBe(50);
      expect(latency.errors).toBe(0);
      expect(latency.failures).toBe('');
      expect(without).toBe(0);
      // Connection warm-up, the unrecorded warm-up second, then the 50 recorded.
      expect(withHeader).toBeGreaterThanOrEqual(50 + 50);
      expect(latency.p50).toBeGreaterThanOrEqual(DELAY_MS);
      expect(latency.p99).toBeGreaterThanOrEqual(latency.p50);
      expect(latency.max).toBeGreaterThanOrEqual(latency.p99);
      // From the due time, which is never after the send: at least the server's own time
      // (within the JavaScript sender's HDR histograms' 3 significant digits).
      expect(latency.p99).toBeGreaterThanOrEqual(latency.service.p99 * 0.995);
    },
  );

  it.skipIf(skip)('counts every error response, and says what failed them', async () => {
    // The connections' warm-up requests (32, sent before anything else) are answered: the
    // native sender stops when they fail. Every request after them is refused, in turn
    // with 429 and 503.
    let answered = 0;
    const gated = await serve((_req, res) => {
      answered++;
      res.statusCode = answered <= 32 ? 200 : answered % 2 ? 429 : 503;
      res.end();
    });
    const latency = await latencyAtRate(gated, 40, 1, {}, sender as Sender);
    expect(latency.sent).toBe(40);
    expect(latency.errors).toBe(40);
    const said = /^(\d+) × status 429, (\d+) × status 503$/.exec(latency.failures);
    expect(said, latency.failures).not.toBeNull();
    const [tooMany, unavailable] = [Number(said![1]), Number(said![2])];
    expect(tooMany + unavailable).toBe(40);
    expect(Math.min(tooMany, unavailable)).toBeGreaterThan(0);
  });
});
