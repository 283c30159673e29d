/** Checks a request or response body against the schema of its declared media type. */
import type { Contract } from './contract.js';
import { parseBody } from './media-type.js';
import type { MediaSpec } from './operations.js';
import { schemaViolations, type Violation } from './violation.js';

/** Parses `body` as its content type says and validates it; opaque bodies pass. */
export function checkBody(
  contract: Contract,
  direction: 'request' | 'response',
  media: MediaSpec,
  contentType: string | undefined,
  body: Buffer,
): Violation[] {
  if (!media.schemaPath) return [];
  const parsed = parseBody(contentType, body);
  if (parsed.kind === 'opaque') return [];
  if (parsed.kind === 'invalid') {
    return [
      {
        location: [direction, 'body'],
        severity: 'error',
        code: 'invalid-json',
        message: `${direction} body is not valid JSON: ${parsed.reason}`,
        expected: media.type,
        actual: contract.redactor.excerpt(body.toString('utf8').slice(0, 200)),
      },
    ];
  }
  const errors = contract.bodyCheck(direction, media.type, media.schemaPath)(parsed.value);
  return errors ? schemaViolations(errors, [direction, 'body'], contract.redactor) : [];
}
