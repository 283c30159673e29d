/**
 * Answers requests from a contract, as Prism's mock mode does — inside the mesh, with
 * faults and splits around it. In Prism's order:
 * 1. the route: no such path → 404, no such method → 405 with `Allow`;
 * 2. security: no credential an operation's `security` asks for → its declared `401`
 *    (else a problem+json 401 with `WWW-Authenticate`);
 * 3. validation: parameters, content type and body checked as the contract stage checks
 *    them → the declared `422`, else `400`, else `default`, else a problem+json 422
 *    listing each violation (415 for an undeclared content type);
 * 4. the answer: the status `Prefer: code=N` (or `?__code=N`) asks for — 404 when the
 *    spec declares none — else the lowest declared 2xx; the media type the `Accept` header
 *    prefers (406 when none is declared); that media type's example (`Prefer: example=NAME`
 *    or `?__example=NAME` picks one by name), else its schema's, else a generated value —
 *    or, in dynamic mode (`sim.dynamic`, `Prefer: dynamic=true`, `?__dynamic=true`), a
 *    value made up anew from the schema (`mock-dynamic.ts`).
 * Required response headers get values the same way. HEAD gets the GET answer's head.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { displayPath } from '../config/display-path.js';
import { checkRequest, headerText } from './check-request.js';
import { declaredResponse } from './check-response.js';
import type { Contract } from './contract.js';
import { bodyOf, chooseMedia, exampleOrSample, mediaValue } from './mock-content.js';
import { mockProblem, type MockAnswer } from './mock-problem.js';
import type { DocPath, MediaSpec, Operation, ResponseSpec, SecurityScheme } from './operations.js';
import { checkBody } from './check-body.js';
import type { Violation } from './violation.js';
import { fakeValue } from './mock-dynamic.js';
import type { Random } from '../lib/random.js';

export type { MockAnswer } from './mock-problem.js';

/** A request as the mock sees it. */
export interface MockRequest {
  method: string;
  pathname: string;
  /** The raw query, without `?`. */
  query: string;
  headers: IncomingHttpHeaders;
  /** The whole body (empty when there was none). */
  body: Buffer;
}

/**
 * What the caller asked the mock for: `Prefer: code=…, example=…, dynamic=…` or
 * `__code`/`__example`/`__dynamic`.
 */
interface Preferences {
  code?: number;
  example?: string;
  dynamic?: boolean;
}

/** How an instance's mock answers when the request does not say. */
export interface MockSettings {
  /** Made-up values on every call (`sim.dynamic`), unless the request says otherwise. */
  dynamic?: boolean;
  /** Where dynamic answers draw their seeds (the instance's seeded source). */
  random?: Random;
}

/**
 * True when `request` is answered with made-up values under `settings` (the mock's
 * caller loads the generator first: `loadFaker`).
 */
export function answersDynamically(request: MockRequest, settings: MockSettings): boolean {
  return preferences(request).dynamic ?? settings.dynamic ?? false;
}

/** Answers `request` from `contract`. */
export function mockAnswer(
  contract: Contract,
  request: MockRequest,
  settings: MockSettings = {},
): MockAnswer {
  const method = request.method.toUpperCase();
  // HEAD is answered as GET (the sim sends the head only).
  const match = contract.index.match(method === 'HEAD' ? 'GET' : method, request.pathname);
  if (match.kind === 'unknown-path') {
    return mockProblem(
      'NO_PATH_MATCHED_ERROR',
      `no path of ${displayPath(contract.file)} matches ${request.pathname}`,
    );
  }
  if (match.kind === 'unknown-method') {
    const allowed = contract.index.methodsOf(match.template);
    return mockProblem(
      'NO_METHOD_MATCHED_ERROR',
      `${match.template} declares ${allowed.join(', ')}, not ${method}`,
      { headers: { allow: allowed.join(', ') } },
    );
  }
  const { operation, pathParams } = match;
  const wants = preferences(request);
  wants.dynamic ??= settings.dynamic;
  const random = settings.random ?? Math.random;
  // A generated value for the schema at a path, when this answer is a dynamic one.
  const generate: Generate | undefined = wants.dynamic
    ? (schemaPath) => fakeValue(contract.spec.doc, schemaPath, random)
    : undefined;
  const errors = checkRequest(contract, operation, pathParams, {
    method,
    query: request.query,
    headers: request.headers,
    body: request.body,
    bodyKnown: true,
  }).filter((violation) => violation.severity === 'error');
  if (errors.length > 0) return invalidRequest(contract, operation, errors, wants, generate);
  if (wants.code !== undefined) {
    const asked = declaredResponse(operation, wants.code);
    if (!asked) {
      return mockProblem(
        'NOT_FOUND',
        `status ${wants.code} is not declared for ${operation.key} (declared: ${declaredList(operation)})`,
      );
    }
    return answer(contract, asked, statusOf(asked.key, wants.code), request, wants, generate);
  }
  const chosen = defaultResponse(operation);
  if (!chosen) return { status: 204, headers: {} };
  return answer(contract, chosen, statusOf(chosen.key, undefined), request, wants, generate);
}

/** An invalid request: the spec's own answer for it if it declares one, else a problem. */
function invalidRequest(
  contract: Contract,
  operation: Operation,
  errors: readonly Violation[],
  wants: Preferences,
  generate: Generate | undefined,
): MockAnswer {
  const missingCredential = errors.find((violation) => violation.code === '401');
  const wrongType = errors.find((violation) => violation.code === '415');
  const statuses = missingCredential ? [401] : wrongType ? [415] : [422, 400];
  const declared =
    statuses
      .map((status) => operation.responses.find((response) => response.key === String(status)))
      .find((response) => response !== undefined) ??
    operation.responses.find((response) => response.key === 'DEFAULT');
  if (declared) {
    const status = /^\d{3}$/.test(declared.key) ? Number(declared.key) : statuses[0]!;
    const answered = answer(contract, declared, status, undefined, wants, generate);
    // A 401 says how to authenticate (RFC 9110 §15.5.2), declared or not.
    if (missingCredential && answered.status === 401)
      answered.headers['www-authenticate'] ??= challenges(operation).join(', ');
    return answered;
  }
  if (missingCredential) {
    return mockProblem('UNAUTHORIZED', missingCredential.message, {
      headers: { 'www-authenticate': challenges(operation).join(', ') },
    });
  }
  if (wrongType) return mockProblem('UNSUPPORTED_MEDIA_TYPE', wrongType.message);
  return mockProblem(
    'UNPROCESSABLE_ENTITY',
    `the request breaks ${operation.key} of ${displayPath(contract.file)}, which declares no 422 or 400 answer`,
    { violations: errors },
  );
}

/** A value made up for the schema at a path (dynamic mode); undefined when it cannot be. */
type Generate = (schemaPath: DocPath) => unknown;

/** The declared response `response` as `status`: its required headers and a body. */
function answer(
  contract: Contract,
  response: ResponseSpec,
  status: number,
  request: MockRequest | undefined,
  wants: Preferences,
  generate: Generate | undefined,
): MockAnswer {
  const doc = contract.spec.doc;
  const headers: Record<string, string> = {};
  for (const header of response.headers) {
    if (!header.required || !header.schemaPath) continue;
    const value =
      generate?.(header.schemaPath) ??
      exampleOrSample(doc, header.schemaPath.slice(0, -1), header.schemaPath);
    headers[header.name] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  // Without a request (answers to invalid requests, as Prism's) nothing is negotiated:
  // the first JSON type, else the first declared.
  const choice = chooseMedia(response.content, request && headerText(request.headers.accept));
  if (choice.kind === 'no-content') return { status, headers };
  if (choice.kind === 'not-acceptable') {
    if (status === 204) return { status, headers };
    return mockProblem(
      'NOT_ACCEPTABLE',
      `${response.key.toLowerCase()} of this operation is declared as ${response.content.map((media) => media.type).join(', ')}, none of which the Accept header (${headerText(request?.headers.accept)}) takes`,
    );
  }
  headers['content-type'] = choice.contentType;
  // HEAD gets the body too: the sim sends its length, not its bytes.
  const made =
    generate && wants.example === undefined
      ? madeUpBody(contract, choice.media, choice.contentType, generate)
      : undefined;
  if (made) return { status, headers, body: made };
  const found = mediaValue(doc, choice.media, wants.example);
  if (found.kind === 'no-such-example') {
    return mockProblem(
      'NOT_FOUND',
      `${choice.media.type} of the ${response.key.toLowerCase()} answer has no example named ${wants.example}`,
    );
  }
  if (found.kind === 'none') return { status, headers };
  return { status, headers, body: bodyOf(found.value, choice.contentType) };
}

/** Made-up values a body gets before its static answer is sent instead. */
const MADE_UP_TRIES = 5;

/**
 * A body made up from `media`'s schema that the contract's own check passes — the
 * generator can miss a keyword (a format deep in nested `$ref`s), and a mock never answers
 * against its contract; undefined after `MADE_UP_TRIES` misses (or without a schema).
 */
function madeUpBody(
  contract: Contract,
  media: MediaSpec,
  contentType: string,
  generate: Generate,
): Buffer | undefined {
  if (!media.schemaPath) return undefined;
  for (let i = 0; i < MADE_UP_TRIES; i++) {
    const value = generate(media.schemaPath);
    if (value === undefined) continue;
    const body = bodyOf(value, contentType);
    const errors = checkBody(contract, 'response', media, contentType, body).filter(
      (violation) => violation.severity === 'error',
    );
    if (errors.length === 0) return body;
  }
  return undefined;
}

/** The lowest declared 2xx, else `default`, else the first declared answer. */
function defaultResponse(operation: Operation): ResponseSpec | undefined {
  const successes = operation.responses
    .filter((response) => /^2/.test(response.key))
    .sort((a, b) => a.key.localeCompare(b.key));
  return (
    successes[0] ??
    operation.responses.find((response) => response.key === 'DEFAULT') ??
    operation.responses[0]
  );
}

/** The status to send for a declared key (`200`, `2XX`, `DEFAULT`), `asked` if it fits. */
function statusOf(key: string, asked: number | undefined): number {
  if (/^\d{3}$/.test(key)) return Number(key);
  if (asked !== undefined) return asked;
  if (/^\dXX$/.test(key)) return Number(key[0]) * 100;
  return 200;
}

function declaredList(operation: Operation): string {
  return operation.responses.map((response) => response.key.toLowerCase()).join(', ') || 'none';
}

/**
 * `Prefer: code=404, example=cat, dynamic=true` and Prism's query forms
 * `__code=404&__example=cat&__dynamic=true`.
 */
function preferences(request: MockRequest): Preferences {
  const out: Preferences = {};
  for (const part of headerText(request.headers.prefer).split(/[,;]/)) {
    const [key, value] = part.split('=').map((piece) => piece.trim().replace(/^"|"$/g, ''));
    if (key === 'code' && value && /^\d{3}$/.test(value)) out.code = Number(value);
    if (key === 'example' && value) out.example = value;
    if (key === 'dynamic' && (value === 'true' || value === 'false'))
      out.dynamic = value === 'true';
  }
  const query = new URLSearchParams(request.query);
  const code = query.get('__code');
  if (code && /^\d{3}$/.test(code)) out.code = Number(code);
  const example = query.get('__example');
  if (example) out.example = example;
  const dynamic = query.get('__dynamic');
  if (dynamic === 'true' || dynamic === 'false') out.dynamic = dynamic === 'true';
  return out;
}

/** `WWW-Authenticate` challenges: one per scheme any security alternative of `operation` names. */
function challenges(operation: Operation): string[] {
  const schemes = (operation.security ?? []).flat().map(({ scheme }) => challengeOf(scheme));
  return [...new Set(schemes)];
}

function challengeOf(scheme: SecurityScheme): string {
  switch (scheme.kind) {
    case 'apiKey':
      return `Key realm="meshdev", ${scheme.in}="${scheme.name}"`;
    case 'http':
      return `${scheme.scheme[0]?.toUpperCase() ?? ''}${scheme.scheme.slice(1)} realm="meshdev"`;
    case 'bearer':
      return 'Bearer realm="meshdev"';
    default:
      return 'OAuth realm="meshdev"';
  }
}
