// The worker of the off-thread probe: checks every body it is sent (one, or a list of one
// event-loop turn's), and answers the count once it has checked as many as it was told.
import { parentPort, workerData } from 'node:worker_threads';
import { makeCheck } from './body-check.mjs';

const check = makeCheck(workerData.schema);
let checked = 0;
let expected = Infinity;
parentPort.on('message', (message) => {
  if (message.expect !== undefined) {
    expected = message.expect;
    checked = 0;
    return;
  }
  for (const bytes of Array.isArray(message) ? message : [message]) if (check(bytes)) checked++;
  if (checked >= expected) parentPort.postMessage(checked);
});
