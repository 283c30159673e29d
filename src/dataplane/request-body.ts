/**
 * Request bodies on the outbound hop: up to 64 KiB is buffered so a retry can send it
 * again; a larger body streams through (and is not retried), never held in memory.
 */
import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';

/** Largest body kept for retries, in bytes (DESIGN section 2). */
export const RETRY_BUFFER_LIMIT = 64 * 1024;

export type RequestBody =
  | { kind: 'empty' }
  | { kind: 'buffered'; data: Buffer }
  | { kind: 'stream'; stream: Readable; bytesSoFar: () => number };

/** True when the body can be sent more than once. */
export function isReplayable(body: RequestBody): boolean {
  return body.kind !== 'stream';
}

/** What to hand to the upstream client for one attempt. */
export function bodyForAttempt(body: RequestBody): Buffer | Readable | undefined {
  if (body.kind === 'empty') return undefined;
  if (body.kind === 'buffered') return body.data;
  return body.stream;
}

/** Bytes received from the caller so far. */
export function bodySize(body: RequestBody): number {
  if (body.kind === 'empty') return 0;
  if (body.kind === 'buffered') return body.data.length;
  return body.bytesSoFar();
}

/** No body at all (most GETs): nothing to read or wait for. */
export const EMPTY_BODY: RequestBody = { kind: 'empty' };

/** Whether `req` announces a body (a length above zero, or chunked). */
export function hasRequestBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/** Reads up to `limit` bytes; past that, returns a stream of everything (read + rest). */
export function readRequestBody(
  req: IncomingMessage,
  limit = RETRY_BUFFER_LIMIT,
): Promise<RequestBody> {
  if (!hasRequestBody(req)) return Promise.resolve(EMPTY_BODY);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size <= limit) return;
      cleanup();
      req.pause();
      const stream = new PassThrough();
      let total = size;
      for (const early of chunks) stream.write(early);
      req.on('data', (more: Buffer) => (total += more.length));
      req.on('aborted', () => stream.destroy(new Error('caller aborted the upload')));
      req.on('error', (error) => stream.destroy(error));
      req.pipe(stream);
      resolve({ kind: 'stream', stream, bytesSoFar: () => total });
    };
    const onEnd = () => {
      cleanup();
      resolve(size === 0 ? EMPTY_BODY : { kind: 'buffered', data: Buffer.concat(chunks) });
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onAborted = () => onError(new Error('caller aborted the upload'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

/** Destroys a body nobody will read; its late errors are expected and ignored. */
export function dropBody(body: Readable | null | undefined): void {
  if (!body || body.destroyed) return;
  body.on('error', () => {});
  body.destroy();
}
