// A fixed-rate, open-loop sender in a process of its own (neither the proxy's nor the
// upstream's): request i is due at start + i/rate whether or not earlier ones answered,
// and its latency is measured from when it was due, not from when it was sent, so a
// stalled server is charged for the requests it delayed (coordinated omission, as wrk2
// corrects it). `node bench/open-loop.mjs URL RATE SECONDS [name:value …]` prints one
// JSON line: {p50, p99, p999, max, sent, errors, failures} in milliseconds; `failures` says
// what failed the counted calls that did ("179 × status 503").
import { build } from 'hdr-histogram-js';
import { Worker } from 'node:worker_threads';
import { Pool } from 'undici';

const [url, rateText, secondsText, ...headerArgs] = process.argv.slice(2);
const rate = Number(rateText);
const seconds = Number(secondsText);
const headers = Object.fromEntries(
  headerArgs.map((pair) => [
    pair.slice(0, pair.indexOf(':')),
    pair.slice(pair.indexOf(':') + 1).trim(),
  ]),
);
const { origin, pathname, search } = new URL(url);
const path = `${pathname}${search}`;
const pool = new Pool(origin, { connections: 256, keepAliveTimeout: 30_000 });
const histogramOptions = {
  lowestDiscernibleValue: 1,
  highestTrackableValue: 60_000_000,
  numberOfSignificantValueDigits: 3,
};
// From when each request was due (what a user waits), and from when it was sent (what the
// server took): the gap between the two is the sender's own lateness, or a stall.
const histogram = build(histogramOptions);
const serviceHistogram = build(histogramOptions);

// Warm the connections, so the first requests do not pay for connecting.
await Promise.all(
  Array.from({ length: 32 }, () =>
    pool.request({ path, method: 'GET', headers }).then((r) => r.body.dump()),
  ),
);

// A warm-up second at the same rate, not recorded: the JIT, the connection pool and the
// servers' first-request paths settle before anything counts.
const warmUp = Math.round(rate);
const total = warmUp + Math.round(rate * seconds);
let sent = 0;
let errors = 0;
/** Failed counted calls by what failed them ("status 503", or the client's error code). */
const failures = new Map();
const failed = (what) => {
  errors++;
  failures.set(what, (failures.get(what) ?? 0) + 1);
};
const pending = [];
const started = performance.now() + 5;
// The clock: a worker thread sleeps with Atomics.wait (microsecond-grained, where a
// timer has 1 ms grains that would be charged as latency) and wakes this thread when the
// next request is due.
const ticker = new Worker(
  `const { parentPort } = require('node:worker_threads');
   const pause = new Int32Array(new SharedArrayBuffer(4));
   parentPort.on('message', (dueAt) => {
     for (;;) {
       const left = dueAt - performance.timeOrigin - performance.now();
       if (left <= 0.02) break;
       Atomics.wait(pause, 0, 0, Math.max(0, left - 0.02));
     }
     parentPort.postMessage(0);
   });`,
  { eval: true },
);
const sendDue = () => {
  const now = performance.now();
  const due = Math.min(total, Math.floor(((now - started) * rate) / 1000) + 1);
  while (sent < due) {
    const scheduled = started + (sent * 1000) / rate;
    const sentAt = performance.now();
    const index = sent++;
    pending.push(
      pool
        .request({ path, method: 'GET', headers })
        .then(async (response) => {
          await response.body.dump();
          if (response.statusCode >= 400 && index >= warmUp)
            failed(`status ${response.statusCode}`);
        })
        .catch((error) => void (index >= warmUp && failed(error.code ?? error.message)))
        .finally(() => {
          if (index < warmUp) return;
          const done = performance.now();
          histogram.recordValue(Math.max(1, Math.round((done - scheduled) * 1000)));
          serviceHistogram.recordValue(Math.max(1, Math.round((done - sentAt) * 1000)));
        }),
    );
  }
};
await new Promise((resolve) => {
  const next = () => {
    sendDue();
    if (sent >= total) return resolve();
    ticker.postMessage(performance.timeOrigin + started + (sent * 1000) / rate);
  };
  ticker.on('message', next);
  next();
});
await ticker.terminate();
await Promise.all(pending);
await pool.close();
const ms = (h, percentile) => h.getValueAtPercentile(percentile) / 1000;
console.log(
  JSON.stringify({
    p50: ms(histogram, 50),
    p99: ms(histogram, 99),
    p999: ms(histogram, 99.9),
    // At the same resolution as the percentiles (maxValue is exact, they are rounded up to
    // their bucket), so p99 ≤ max always holds.
    max: ms(histogram, 100),
    service: {
      p50: ms(serviceHistogram, 50),
      p99: ms(serviceHistogram, 99),
      p999: ms(serviceHistogram, 99.9),
    },
    sent: sent - warmUp,
    errors,
    failures: [...failures]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([what, count]) => `${count} × ${what}`)
      .join(', '),
  }),
);
