/** W3C trace context and request ids: created at the first hop, forwarded by every hop. */
import { randomFillSync, randomUUID } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';

const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/;

// Random bytes are drawn 4 KiB at a time: one system call per ~170 new traces.
const pool = Buffer.alloc(4096);
let offset = pool.length;

function randomHex(bytes: number): string {
  if (offset + bytes > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  offset += bytes;
  return pool.toString('hex', offset - bytes, offset);
}

/** Ensures `traceparent` and `x-request-id` on `headers`; returns the ids for telemetry. */
export function ensureTrace(headers: OutgoingHttpHeaders): { traceId: string; requestId: string } {
  let traceId = TRACEPARENT.exec(String(headers.traceparent ?? ''))?.[1];
  if (!traceId) {
    traceId = randomHex(16);
    headers.traceparent = `00-${traceId}-${randomHex(8)}-01`;
  }
  let requestId = headers['x-request-id'];
  if (typeof requestId !== 'string' || requestId === '') {
    requestId = randomUUID();
    headers['x-request-id'] = requestId;
  }
  return { traceId, requestId };
}
