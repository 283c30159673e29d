/**
 * The worker thread that checks response bodies for `contracts: report` (started by
 * `OffThreadBodyChecks`). It keeps its own compiled copy of each contract it is sent,
 * reads each batch's bodies from the shared ring and answers in one message, naming only
 * the bodies that broke their contract: parsing and validating a body is most of what a
 * checked call costs, and here it costs the serving thread nothing.
 */
import { parentPort, workerData } from 'node:worker_threads';
import {
  INDEX_FIELDS,
  type BodyCheckAnswer,
  type BodyCheckRequest,
  type BodyCheckTarget,
} from './body-check-protocol.js';
import { checkResponseBody } from './check-response.js';
import { Contract } from './contract.js';
import type { MediaSpec } from './operations.js';
import { fromPointer } from './pointer.js';
import type { Violation } from './violation.js';

/** The bodies, written by the serving thread (`ByteRing`); a region is read before it is answered. */
const ring = Buffer.from((workerData as { ring: SharedArrayBuffer }).ring);
const contracts = new Map<number, Contract>();
/** Targets by id, their media spec built once (validators are cached by its schema path array). */
const targets = new Map<number, { target: BodyCheckTarget; media: MediaSpec }>();

parentPort!.on('message', (message: BodyCheckRequest) => {
  switch (message.kind) {
    case 'contract':
      // Compiled as each validator is first needed: the serving thread compiled them all already.
      contracts.set(message.id, new Contract({ ...message.spec, cached: true }));
      return;
    case 'forget':
      contracts.delete(message.id);
      for (const [id, { target }] of targets)
        if (target.contract === message.id) targets.delete(id);
      return;
    case 'target': {
      const { target } = message;
      const schemaPath = fromPointer(target.schema);
      targets.set(target.id, {
        target,
        // The Media Type Object holds the schema (the path is not read here).
        media: { type: target.mediaType, path: schemaPath.slice(0, -1), schemaPath },
      });
      return;
    }
    case 'check': {
      const { index } = message;
      const answer: BodyCheckAnswer = { kind: 'checked', batch: message.batch, found: [] };
      for (let position = 0; position * INDEX_FIELDS < index.length; position++) {
        const at = position * INDEX_FIELDS;
        const found = check(index[at]!, ring.subarray(index[at + 1], index[at + 2]));
        if (found.length > 0) answer.found.push([position, found]);
      }
      parentPort!.postMessage(answer);
      return;
    }
  }
});

function check(targetId: number, body: Buffer): Violation[] {
  const known = targets.get(targetId);
  const contract = known && contracts.get(known.target.contract);
  if (!known || !contract) return [];
  try {
    return checkResponseBody(contract, known.media, known.target.contentType, body);
  } catch (error) {
    // A validator that throws costs this body's check, never the batch.
    return [
      {
        location: ['response', 'body'],
        severity: 'warning',
        code: 'check-failed',
        message: `the body could not be checked: ${(error as Error).message ?? String(error)}`,
      },
    ];
  }
}
