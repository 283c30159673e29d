/**
 * A contract violation, shaped like Prism's diagnostics (`location`, `severity`, `code`,
 * `message`) plus what Prism never shows: `expected` and an excerpt of the `actual`
 * value — secrets redacted and size capped, so a report is safe to paste anywhere.
 */
import type { ErrorObject } from 'ajv';

/** Error fails a check (and is refused in `enforce` mode); warning is only reported. */
export type Severity = 'error' | 'warning';

/** One way a call broke its callee's contract. */
export interface Violation {
  /** Where: `["request","query","limit"]`, `["response","body","items","0","id"]`. */
  location: string[];
  severity: Severity;
  /** An ajv keyword (`type`, `required`, …) or a meshdev code (`415`, `401`, `undeclared-status`…). */
  code: string;
  message: string;
  expected?: string;
  /** An excerpt of the offending value, secrets redacted. */
  actual?: string;
}

/** Longest excerpt of a value, in characters. */
export const EXCERPT_LIMIT = 160;

/** Stands in for a secret value in every report. */
export const REDACTED = '[redacted]';

/** Names whose values are secrets wherever they appear (compared lower-case). */
export const DEFAULT_SECRET_NAMES = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'password',
  'passwd',
  'secret',
  'client_secret',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'api_key',
  'apikey',
  'api-key',
  'x-api-key',
];

/** Replaces the values of secret keys, at any depth, and caps the size. */
export class Redactor {
  private readonly names: Set<string>;

  constructor(names: Iterable<string>) {
    this.names = new Set([...DEFAULT_SECRET_NAMES, ...[...names].map((n) => n.toLowerCase())]);
  }

  /** True when values under `name` are secrets. */
  isSecret(name: string | undefined): boolean {
    return name !== undefined && this.names.has(name.toLowerCase());
  }

  /** A capped, redacted rendering of `value`, found under key `name`. */
  excerpt(value: unknown, name?: string): string {
    if (this.isSecret(name)) return REDACTED;
    const text = render(this.redact(value, 0));
    if (text.length <= EXCERPT_LIMIT) return text;
    return `${text.slice(0, EXCERPT_LIMIT)}…(${text.length - EXCERPT_LIMIT} more chars)`;
  }

  private redact(value: unknown, depth: number): unknown {
    if (value === null || typeof value !== 'object' || depth > 20) return value;
    if (Array.isArray(value)) return value.map((item) => this.redact(item, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = this.isSecret(key) ? REDACTED : this.redact(item, depth + 1);
    }
    return out;
  }
}

function render(value: unknown): string {
  if (value === undefined) return 'absent';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** A request path with the values of secret query parameters replaced: `/x?api_key=[redacted]`. */
export function redactPath(requestPath: string, redactor: Redactor): string {
  const at = requestPath.indexOf('?');
  if (at < 0) return requestPath;
  const query = requestPath
    .slice(at + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      return eq >= 0 && redactor.isSecret(safeDecode(name)) ? `${name}=${REDACTED}` : pair;
    })
    .join('&');
  return `${requestPath.slice(0, at)}?${query}`;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Turns ajv's errors on the value at `prefix` into violations. */
export function schemaViolations(
  errors: readonly ErrorObject[],
  prefix: string[],
  redactor: Redactor,
  severity: Severity = 'error',
): Violation[] {
  return errors.map((error) => {
    const path = [...prefix, ...pointerParts(error.instancePath)];
    const extra = extraProperty(error);
    if (extra !== undefined) path.push(extra);
    const name = path[path.length - 1];
    const where = path.slice(2).join('.') || path[1] || 'value';
    return {
      location: path,
      severity,
      code: error.keyword,
      message: `${where} ${error.message ?? 'is invalid'}`,
      expected: expectedOf(error),
      actual:
        error.keyword === 'required' || error.keyword === 'dependentRequired'
          ? 'absent'
          : extra !== undefined && error.data && typeof error.data === 'object'
            ? // The extra property's own value, not the whole object around it.
              redactor.excerpt((error.data as Record<string, unknown>)[extra], extra)
            : redactor.excerpt(error.data, name),
    };
  });
}

function pointerParts(pointer: string): string[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function extraProperty(error: ErrorObject): string | undefined {
  const params = error.params as Record<string, unknown>;
  const name =
    params.missingProperty ??
    params.additionalProperty ??
    params.unevaluatedProperty ??
    params.property;
  return typeof name === 'string' ? name : undefined;
}

function expectedOf(error: ErrorObject): string | undefined {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'type':
      return String(params.type);
    case 'enum':
      return `one of ${JSON.stringify(params.allowedValues)}`;
    case 'const':
      return JSON.stringify(params.allowedValue);
    case 'required':
      return `property "${String(params.missingProperty)}"`;
    case 'dependentRequired':
      return `property "${String(params.missingProperty)}" when "${String(params.property)}" is present`;
    case 'additionalProperties':
    case 'unevaluatedProperties':
      return 'no properties beyond those declared';
    case 'format':
      return `format ${String(params.format)}`;
    case 'pattern':
      return `pattern ${String(params.pattern)}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
    case 'minLength':
    case 'maxLength':
    case 'minItems':
    case 'maxItems':
    case 'minProperties':
    case 'maxProperties':
      return params.comparison !== undefined
        ? `${String(params.comparison)} ${String(params.limit)}`
        : `${error.keyword} ${String(params.limit)}`;
    default: {
      const schema = JSON.stringify(error.schema);
      return schema === undefined
        ? undefined
        : `${error.keyword} ${schema.slice(0, EXCERPT_LIMIT)}`;
    }
  }
}
