/**
 * Contract stage (outbound hop, after `authorize`): checks the call against the callee's
 * OpenAPI contract — the version the split chose. The request is checked before it goes
 * on (in `enforce` mode a violation is answered 422, or 401 for missing credentials, and
 * the callee is never called); the response head when it comes back; the body as it
 * streams to the caller, checked once delivered (`report`) or before (`enforce`: 502).
 * Answers the mesh made itself (faults, timeouts, breakers) are not the callee's and are
 * not checked.
 */
import { Readable } from 'node:stream';
import { BodyCapture, CallCheck, CAPTURE_LIMIT } from '../../contracts/call-check.js';
import { checkRequest, headerText } from '../../contracts/check-request.js';
import { checkResponseBody, checkResponseHead } from '../../contracts/check-response.js';
import type { ContractSet } from '../../contracts/contract-set.js';
import { offThreadBodyChecks } from '../../contracts/off-thread-checks.js';
import type { Violation } from '../../contracts/violation.js';
import { errorOutcome } from '../error-outcome.js';
import type { HopContext, Next, Outcome, Stage } from '../pipeline.js';
import type { Contract } from '../../contracts/contract.js';

/** The response header that tells the caller how many violations a call had. */
export const VIOLATIONS_HEADER = 'x-meshdev-violations';

/** Builds the contract stage over the contracts in force. */
export function contractStage(contracts: () => ContractSet): Stage<HopContext> {
  return {
    name: 'contract',
    handle(hop, next): Promise<Outcome> {
      const set = contracts();
      const contract = set.lookup(hop.service.name, hop.version);
      // Most hops have no spec: they pay one lookup, not an async frame.
      if (!contract || hop.upgrade) return next();
      return checkCall(hop, next, contract, set.mode === 'enforce');
    },
  };
}

/** Checks one call against `contract`: the request, then the answer. */
async function checkCall(
  hop: HopContext,
  next: Next,
  contract: Contract,
  enforce: boolean,
): Promise<Outcome> {
  const check = new CallCheck(contract);
  hop.contract = check;
  const match = contract.index.match(hop.method, hop.pathname);
  if (match.kind !== 'operation') {
    check.add([unknownOperation(match.kind, hop.method, hop.pathname)]);
    return withCount(await next(), check, enforce);
  }
  check.operation = match.operation.key;
  const query = hop.path.includes('?') ? hop.path.slice(hop.path.indexOf('?') + 1) : '';
  check.add(
    checkRequest(contract, match.operation, match.pathParams, {
      method: hop.method,
      query,
      headers: hop.headers as Record<string, string | string[] | undefined>,
      body: hop.body.kind === 'buffered' ? hop.body.data : undefined,
      bodyKnown: hop.body.kind !== 'stream',
    }),
  );
  if (enforce && check.hasErrors()) {
    hop.flags.add('CV');
    return refuse(hop, 'contract_request', check.violations);
  }
  const outcome = await next();
  if (outcome.kind !== 'response' || outcome.headers['x-meshdev-error'] !== undefined) {
    return withCount(outcome, check, enforce);
  }
  const hasBody =
    outcome.body !== null &&
    hop.method !== 'HEAD' &&
    outcome.status !== 204 &&
    outcome.status !== 304;
  const head = checkResponseHead(
    contract,
    match.operation,
    outcome.status,
    outcome.headers,
    hasBody,
  );
  check.response = head.response?.key;
  check.add(head.violations);
  const contentType = headerText(outcome.headers['content-type']) || undefined;
  if (enforce) {
    if (head.bodyMedia && outcome.body) {
      const read = await readCapped(outcome.body);
      if (read.complete)
        check.add(checkResponseBody(contract, head.bodyMedia, contentType, read.data));
      outcome.body = read.stream;
    }
    if (check.hasErrors()) {
      hop.flags.add('CV');
      outcome.body?.destroy();
      return refuse(hop, 'contract_response', check.violations);
    }
    return outcome;
  }
  if (head.bodyMedia && outcome.body) {
    // A copy taken as the body is delivered: no stream is added to the caller's path.
    const capture = new BodyCapture();
    outcome.observe = capture;
    // Checked in a worker thread once delivered: the call record waits for it, the caller does not.
    check.checkBodyLater(capture, head.bodyMedia, contentType, offThreadBodyChecks());
  }
  return withCount(outcome, check, enforce);
}

function unknownOperation(
  kind: 'unknown-path' | 'unknown-method',
  method: string,
  path: string,
): Violation {
  return {
    location: ['request', kind === 'unknown-path' ? 'path' : 'method'],
    severity: 'warning',
    code: kind,
    message:
      kind === 'unknown-path'
        ? `no path of the spec matches ${path}`
        : `${method} is not declared for ${path}`,
    actual: kind === 'unknown-path' ? path : method,
  };
}

/** In report mode, tells the caller how many violations were found by the time the head went back. */
function withCount(outcome: Outcome, check: CallCheck, enforce: boolean): Outcome {
  const count = check.violations.length;
  if (enforce || count === 0 || outcome.kind !== 'response') return outcome;
  outcome.headers[VIOLATIONS_HEADER] = String(count);
  return outcome;
}

function refuse(
  hop: HopContext,
  code: 'contract_request' | 'contract_response',
  violations: readonly Violation[],
): Outcome {
  const errors = violations.filter((v) => v.severity === 'error');
  const security = code === 'contract_request' && errors.every((v) => v.code === '401');
  return errorOutcome(
    code,
    {
      service: hop.service.name,
      version: hop.version,
      detail: errors.map((v) => v.message).join('; '),
    },
    { status: security ? 401 : undefined, extra: { violations } },
  );
}

/** Reads a body up to `CAPTURE_LIMIT`; the stream handed back replays it (and the rest, if longer). */
async function readCapped(
  body: Readable,
): Promise<{ complete: boolean; data: Buffer; stream: Readable }> {
  const chunks: Buffer[] = [];
  let size = 0;
  const iterator = body[Symbol.asyncIterator]();
  for (;;) {
    const { value, done } = await iterator.next();
    if (done) {
      const data = Buffer.concat(chunks);
      return { complete: true, data, stream: Readable.from([data]) };
    }
    chunks.push(value as Buffer);
    size += (value as Buffer).length;
    if (size > CAPTURE_LIMIT) {
      const rest = async function* () {
        yield* chunks;
        for (;;) {
          const next = await iterator.next();
          if (next.done) return;
          yield next.value as Buffer;
        }
      };
      return { complete: false, data: Buffer.alloc(0), stream: Readable.from(rest()) };
    }
  }
}
