/**
 * The answers a contract mock makes up itself when the spec declares none for the case —
 * no such path or method, a missing credential, an invalid request, an unacceptable
 * `Accept` — as RFC 9457 problem details (`application/problem+json`), with Prism's
 * names for each kind so that users of Prism recognize them. An invalid request lists
 * what was wrong in Prism's `validation` shape (`location`, `severity`, `code`, `message`).
 */
import type { Violation } from './violation.js';

/** What a mock answers: status, headers and the body's bytes. */
export interface MockAnswer {
  status: number;
  headers: Record<string, string>;
  body?: Buffer;
}

/** The kinds of problem the mock reports, by Prism's name, with their status and title. */
export const MOCK_PROBLEMS = {
  NO_PATH_MATCHED_ERROR: { status: 404, title: 'Route not resolved, no path matched' },
  NO_METHOD_MATCHED_ERROR: { status: 405, title: 'Route resolved, but no method matched' },
  UNAUTHORIZED: { status: 401, title: 'Invalid security scheme used' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported content type' },
  UNPROCESSABLE_ENTITY: { status: 422, title: 'Invalid request' },
  NOT_ACCEPTABLE: {
    status: 406,
    title: 'The server cannot produce a representation for your accept header',
  },
  NOT_FOUND: { status: 404, title: 'The server cannot find the requested content' },
} as const;

/** One kind of mock problem. */
export type MockProblemKind = keyof typeof MOCK_PROBLEMS;

/** Where the problem kinds are described (the `type` member names one of them). */
const PROBLEM_TYPE_BASE = 'https://meshdev.local/problems/mock#';

/** A problem+json answer of `kind`, saying `detail`, with the request's violations if any. */
export function mockProblem(
  kind: MockProblemKind,
  detail: string,
  options: { violations?: readonly Violation[]; headers?: Record<string, string> } = {},
): MockAnswer {
  const { status, title } = MOCK_PROBLEMS[kind];
  const problem = {
    type: `${PROBLEM_TYPE_BASE}${kind}`,
    title,
    status,
    detail,
    ...(options.violations && { validation: options.violations.map(prismValidation) }),
  };
  return {
    status,
    headers: { 'content-type': 'application/problem+json', ...options.headers },
    body: Buffer.from(JSON.stringify(problem)),
  };
}

/** A violation as Prism lists it: where in the request (no `request` prefix), Error/Warning. */
function prismValidation(violation: Violation) {
  const location =
    violation.location[0] === 'request' ? violation.location.slice(1) : violation.location;
  return {
    location,
    severity: violation.severity === 'error' ? 'Error' : 'Warning',
    code: violation.code,
    message: violation.message,
  };
}
