/**
 * The messages between `OffThreadBodyChecks` and its worker (`body-check-worker.ts`).
 * The bodies themselves are in the ring of shared memory the worker was started with
 * (`workerData.ring`); a batch is a list of numbers, no object per body. What varies
 * little (the contract, the schema, the content type) is sent once as a numbered target.
 */
import type { LoadedSpec } from './spec-load.js';
import type { Violation } from './violation.js';

/** What a body is checked against: a contract's schema for a media type, with the response's content type. */
export interface BodyCheckTarget {
  id: number;
  /** The id the contract was sent under. */
  contract: number;
  mediaType: string;
  /** The JSON pointer of the body's schema in the contract's document. */
  schema: string;
  contentType?: string;
}

/** Numbers per body in a batch's index: target, start, end (of the body in the ring). */
export const INDEX_FIELDS = 3;

/** What the serving thread sends. */
export type BodyCheckRequest =
  | { kind: 'contract'; id: number; spec: LoadedSpec }
  | { kind: 'forget'; id: number }
  | { kind: 'target'; target: BodyCheckTarget }
  | { kind: 'check'; batch: number; index: number[] };

/** The worker's answer to one batch: the violations of the bodies that had any, by position. */
export interface BodyCheckAnswer {
  kind: 'checked';
  batch: number;
  found: Array<[position: number, violations: Violation[]]>;
}
