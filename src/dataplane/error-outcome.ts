/** Turns a catalog error into an `Outcome` with a JSON body and `x-meshdev-error`. */
import { Readable } from 'node:stream';
import type { ResponseFlag } from '../telemetry/call-record.js';
import { meshError, type ErrorContext, type MeshErrorCode } from './errors.js';
import type { FailureCause, Outcome } from './pipeline.js';

/** A mesh-made answer; `cause` lets retry conditions see it as the failure it stands for. */
export function errorOutcome(
  code: MeshErrorCode,
  context: ErrorContext,
  options: {
    flags?: Iterable<ResponseFlag>;
    status?: number;
    cause?: FailureCause;
    /** More fields for the JSON body (contract violations list theirs). */
    extra?: Record<string, unknown>;
  } = {},
): Outcome {
  const { status, body } = meshError(code, context, [...(options.flags ?? [])], options.status);
  const text = Buffer.from(JSON.stringify({ ...body, ...options.extra }));
  return {
    kind: 'response',
    status,
    headers: {
      'content-type': 'application/json',
      'content-length': String(text.length),
      'x-meshdev-error': code,
    },
    body: Readable.from([text]),
    cause: options.cause,
  };
}
