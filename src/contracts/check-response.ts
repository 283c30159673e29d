/**
 * Checks a response against the operation that was called: the status is declared (an
 * exact code, a `2XX` range or `default`), the content type is declared, required and
 * declared headers hold, and the body matches its schema. The head is checked when it
 * arrives; the body once it has been delivered, off the caller's path.
 */
import type { Contract } from './contract.js';
import { headerText } from './check-request.js';
import { checkBody } from './check-body.js';
import { matchMediaType } from './media-type.js';
import type { MediaSpec, Operation, ResponseSpec } from './operations.js';
import { readHeaderParameter } from './read-parameters.js';
import { schemaViolations, type Violation } from './violation.js';

/** What checking a response head found, and what its body will be checked against. */
export interface ResponseHeadCheck {
  violations: Violation[];
  /** The declared response it fell under (`200`, `2XX`, `DEFAULT`). */
  response?: ResponseSpec;
  /** The body's declared media type with a schema, when the body must be checked. */
  bodyMedia?: MediaSpec;
}

/** The declared response for `status`: exact, then its range, then `default`. */
export function declaredResponse(operation: Operation, status: number): ResponseSpec | undefined {
  const exact = String(status);
  const range = `${exact[0]}XX`;
  return (
    operation.responses.find((r) => r.key === exact) ??
    operation.responses.find((r) => r.key === range) ??
    operation.responses.find((r) => r.key === 'DEFAULT')
  );
}

/** Checks status, content type and headers. */
export function checkResponseHead(
  contract: Contract,
  operation: Operation,
  status: number,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  hasBody: boolean,
): ResponseHeadCheck {
  const response = declaredResponse(operation, status);
  if (!response) {
    return {
      violations: [
        {
          location: ['response', 'status'],
          severity: status >= 200 && status < 300 ? 'error' : 'warning',
          code: 'undeclared-status',
          message: `status ${status} is not declared for ${operation.key}`,
          expected:
            operation.responses.map((r) => r.key.toLowerCase()).join(', ') || 'a declared response',
          actual: String(status),
        },
      ],
    };
  }
  const violations: Violation[] = [];
  const values: Record<string, unknown> = {};
  for (const header of response.headers) {
    const value = readHeaderParameter(header, headers[header.name]);
    if (value !== undefined) values[header.name] = value;
  }
  const errors = contract.responseHeaderCheck(operation, response.key)(values);
  if (errors)
    violations.push(...schemaViolations(errors, ['response', 'header'], contract.redactor));
  if (!hasBody || response.content.length === 0) return { violations, response };
  const contentType = headerText(headers['content-type']);
  const media = matchMediaType(contentType, response.content);
  if (!media) {
    violations.push({
      location: ['response', 'header', 'content-type'],
      severity: 'error',
      code: 'undeclared-content-type',
      message: `content type ${contentType || '(none)'} is not declared for status ${status}`,
      expected: response.content.map((m) => m.type).join(', '),
      actual: contentType || 'absent',
    });
    return { violations, response };
  }
  return { violations, response, bodyMedia: media.schemaPath ? media : undefined };
}

/** Checks a delivered response body against its declared schema. */
export function checkResponseBody(
  contract: Contract,
  media: MediaSpec,
  contentType: string | undefined,
  body: Buffer,
): Violation[] {
  return checkBody(contract, 'response', media, contentType, body);
}
