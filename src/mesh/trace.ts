/** W3C trace context and request ids: created at the first hop, forwarded by every hop. */
import { randomBytes, randomUUID } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';

const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/;

/** Ensures `traceparent` and `x-request-id` on `headers`; returns the ids for telemetry. */
export function ensureTrace(headers: OutgoingHttpHeaders): { traceId: string; requestId: string } {
  let traceId = TRACEPARENT.exec(String(headers.traceparent ?? ''))?.[1];
  if (!traceId) {
    traceId = randomBytes(16).toString('hex');
    headers.traceparent = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
  }
  let requestId = headers['x-request-id'];
  if (typeof requestId !== 'string' || requestId === '') {
    requestId = randomUUID();
    headers['x-request-id'] = requestId;
  }
  return { traceId, requestId };
}
