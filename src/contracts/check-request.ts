/**
 * Checks a request against the operation it calls: parameters in path, query, headers
 * and cookies (deserialized by style, coerced, validated), deprecated parameters,
 * security requirements (the credential is present), content type and body.
 */
import type { Contract } from './contract.js';
import { checkBody } from './check-body.js';
import { matchMediaType } from './media-type.js';
import type { Operation, SecurityAlternatives, SecurityScheme } from './operations.js';
import {
  parseCookies,
  parseQuery,
  readFormParameter,
  readHeaderParameter,
  readPathParameter,
} from './read-parameters.js';
import { schemaViolations, type Violation } from './violation.js';

/** What is known of a request when it is checked. */
export interface RequestFacts {
  method: string;
  /** The raw query, without `?`. */
  query: string;
  /** Lower-case names. */
  headers: Readonly<Record<string, string | string[] | number | undefined>>;
  /** The body when it was buffered; `undefined` when there was none. */
  body: Buffer | undefined;
  /** False when the body streamed through unbuffered (too large to check). */
  bodyKnown: boolean;
}

/** Every violation of `request` against `operation`. */
export function checkRequest(
  contract: Contract,
  operation: Operation,
  pathParams: Record<string, string>,
  request: RequestFacts,
): Violation[] {
  const out: Violation[] = [];
  const { redactor } = contract;
  const query = parseQuery(request.query);
  const cookies = parseCookies(headerText(request.headers.cookie));
  const values: Record<'path' | 'query' | 'header' | 'cookie', Record<string, unknown>> = {
    path: {},
    query: {},
    header: {},
    cookie: {},
  };
  for (const param of operation.parameters) {
    const value =
      param.in === 'path'
        ? pathParams[param.name] === undefined
          ? undefined
          : readPathParameter(param, pathParams[param.name]!)
        : param.in === 'header'
          ? readHeaderParameter(param, headerValue(request.headers[param.name.toLowerCase()]))
          : readFormParameter(param, param.in === 'query' ? query : cookies);
    if (value === undefined) continue;
    values[param.in][param.in === 'header' ? param.name.toLowerCase() : param.name] = value;
    if (param.deprecated) {
      out.push({
        location: ['request', param.in, param.name],
        severity: 'warning',
        code: 'deprecated',
        message: `${param.in} parameter ${param.name} is deprecated`,
        actual: redactor.excerpt(value, param.name),
      });
    }
  }
  for (const where of ['path', 'query', 'header', 'cookie'] as const) {
    const errors = contract.parameterCheck(operation, where)(values[where]);
    if (errors) out.push(...schemaViolations(errors, ['request', where], redactor));
  }
  out.push(...checkSecurity(operation.security, request, query, cookies));
  out.push(...checkRequestBody(contract, operation, request));
  return out;
}

function checkRequestBody(
  contract: Contract,
  operation: Operation,
  request: RequestFacts,
): Violation[] {
  const spec = operation.body;
  const hasBody = request.body !== undefined && request.body.length > 0;
  if (!hasBody && request.bodyKnown) {
    if (!spec?.required) return [];
    return [
      {
        location: ['request', 'body'],
        severity: 'error',
        code: 'required',
        message: 'request body is required',
        expected: spec.content.map((m) => m.type).join(' or ') || 'a body',
        actual: 'absent',
      },
    ];
  }
  if (!spec || spec.content.length === 0) return [];
  const contentType = headerText(request.headers['content-type']);
  const media = matchMediaType(contentType, spec.content);
  if (!media) {
    return [
      {
        location: ['request', 'header', 'content-type'],
        severity: 'error',
        code: '415',
        message: `content type ${contentType || '(none)'} is not declared for this request body`,
        expected: spec.content.map((m) => m.type).join(', '),
        actual: contentType || 'absent',
      },
    ];
  }
  if (!request.body) return [];
  return checkBody(contract, 'request', media, contentType, request.body);
}

/** Security: at least one alternative has every credential it names (presence, as Prism checks). */
function checkSecurity(
  alternatives: SecurityAlternatives | undefined,
  request: RequestFacts,
  query: ReadonlyArray<readonly [string, string]>,
  cookies: ReadonlyArray<readonly [string, string]>,
): Violation[] {
  if (!alternatives || alternatives.length === 0) return [];
  const present = (scheme: SecurityScheme): boolean => {
    const authorization = headerText(request.headers.authorization).toLowerCase();
    switch (scheme.kind) {
      case 'apiKey':
        if (scheme.in === 'header') return request.headers[scheme.name.toLowerCase()] !== undefined;
        return (scheme.in === 'query' ? query : cookies).some(([key]) => key === scheme.name);
      case 'http':
        return authorization.startsWith(`${scheme.scheme} `);
      case 'bearer':
        return authorization.startsWith('bearer ');
      default:
        return true;
    }
  };
  if (alternatives.some((all) => all.every(({ scheme }) => present(scheme)))) return [];
  const first = alternatives[0]!.find(({ scheme }) => !present(scheme))!;
  const where =
    first.scheme.kind === 'apiKey'
      ? [
          'request',
          first.scheme.in === 'header' ? 'header' : first.scheme.in,
          first.scheme.in === 'header' ? first.scheme.name.toLowerCase() : first.scheme.name,
        ]
      : ['request', 'header', 'authorization'];
  return [
    {
      location: where,
      severity: 'error',
      code: '401',
      message: `no credential for security requirement ${alternatives
        .map((all) => all.map((s) => s.name).join(' + ') || 'anonymous')
        .join(' or ')}`,
      expected: alternatives
        .map((all) => all.map(({ scheme }) => describeScheme(scheme)).join(' + '))
        .join(' or '),
      actual: 'absent',
    },
  ];
}

function describeScheme(scheme: SecurityScheme): string {
  switch (scheme.kind) {
    case 'apiKey':
      return `${scheme.in} ${scheme.name}`;
    case 'http':
      return `Authorization: ${scheme.scheme[0]?.toUpperCase()}${scheme.scheme.slice(1)} …`;
    case 'bearer':
      return 'Authorization: Bearer …';
    default:
      return 'a credential';
  }
}

function headerValue(value: string | string[] | number | undefined): string | string[] | undefined {
  return typeof value === 'number' ? String(value) : value;
}

/** A header's text (repeated headers joined). */
export function headerText(value: string | string[] | number | undefined): string {
  if (value === undefined) return '';
  return Array.isArray(value) ? value.join(', ') : String(value);
}
