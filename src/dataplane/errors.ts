/**
 * The one catalog of errors the mesh itself answers with: code, HTTP status, response
 * flag and message template. `meshErrorBody` turns one into the JSON body users see.
 */
import { STATUS_CODES } from 'node:http';
import { DEFAULT_VERSION, instanceLabel } from '../config/model.js';
import type { ResponseFlag } from '../telemetry/call-record.js';

interface CatalogEntry {
  status: number;
  flag: ResponseFlag | null;
  message: (context: ErrorContext) => string;
}

/** What a message template may mention. */
export interface ErrorContext {
  service: string;
  version?: string;
  caller?: string;
  port?: number;
  detail?: string;
  path?: string;
  timeoutMs?: number;
}

/** Every error the mesh produces. */
export const MESH_ERRORS = {
  no_route: {
    status: 404,
    flag: 'NR',
    message: (c) => `no route of ${c.service} matches ${c.path ?? 'this request'}`,
  },
  upstream_unreachable: {
    status: 502,
    flag: 'UF',
    message: (c) =>
      `${label(c)} is unreachable on 127.0.0.1:${c.port ?? '?'}${c.detail ? ` (${c.detail})` : ''} — is the service running?`,
  },
  upstream_reset: {
    status: 502,
    flag: 'UC',
    message: (c) => `${label(c)} closed the connection before answering`,
  },
  upstream_protocol_error: {
    status: 502,
    flag: 'UPE',
    message: (c) =>
      `${label(c)} answered with something that is not valid HTTP${c.detail ? `: ${c.detail}` : ''}`,
  },
  upstream_timeout: {
    status: 504,
    flag: 'UT',
    message: (c) => `${label(c)} did not answer within ${c.timeoutMs ?? '?'}ms`,
  },
  circuit_open: {
    status: 503,
    flag: 'UO',
    message: (c) => `circuit breaker for ${label(c)} is open${c.detail ? ` (${c.detail})` : ''}`,
  },
  overflow: {
    status: 503,
    flag: 'UO',
    message: (c) => `${label(c)} is at its maxConcurrent limit${c.detail ? ` (${c.detail})` : ''}`,
  },
  unhealthy: {
    status: 503,
    flag: 'UH',
    message: (c) => `${label(c)} is ${c.detail ?? 'not up'} — see \`meshdev logs ${c.service}\``,
  },
  fault_abort: {
    status: 503,
    flag: 'FI',
    message: (c) => `fault injected by meshdev on ${label(c)}`,
  },
  gateway_no_route: {
    status: 404,
    flag: 'NR',
    message: (c) => `no gateway route matches ${c.path ?? 'this path'}`,
  },
  bad_request: {
    status: 400,
    flag: null,
    message: (c) => `${c.service} refused the request: ${c.detail ?? 'it is malformed'}`,
  },
  request_headers_too_large: {
    status: 431,
    flag: null,
    message: (c) => `${c.service} refused the request: ${c.detail ?? 'its headers are too large'}`,
  },
  method_not_allowed: {
    status: 405,
    flag: null,
    message: (c) => `${c.service} refused the request: ${c.detail ?? 'its method is not allowed'}`,
  },
  request_timeout: {
    status: 408,
    flag: null,
    message: (c) => `${c.service} refused the request: ${c.detail ?? 'it did not arrive in time'}`,
  },
  contract_request: {
    status: 422,
    flag: 'CV',
    message: (c) =>
      `the request breaks the contract of ${label(c)}: ${c.detail ?? 'see violations'}`,
  },
  contract_response: {
    status: 502,
    flag: 'CV',
    message: (c) => `${label(c)} answered outside its contract: ${c.detail ?? 'see violations'}`,
  },
  unauthenticated: {
    status: 401,
    flag: 'UAEX',
    message: (c) => c.detail ?? 'credentials are missing or invalid',
  },
  consumer_forbidden: {
    status: 403,
    flag: 'UAEX',
    message: (c) => c.detail ?? `${c.caller ?? 'this consumer'} may not call this route`,
  },
  rate_limited: {
    status: 429,
    flag: 'RL',
    message: (c) => c.detail ?? 'rate limit exceeded',
  },
  quota_exceeded: {
    status: 429,
    flag: 'RL',
    message: (c) => c.detail ?? 'quota exceeded',
  },
  cors_refused: {
    status: 403,
    flag: null,
    message: (c) => c.detail ?? 'CORS preflight refused',
  },
  unauthorized: {
    status: 403,
    flag: 'UAEX',
    message: (c) => c.detail ?? `${c.caller ?? 'caller'} is not allowed to call ${label(c)}`,
  },
} satisfies Record<string, CatalogEntry>;

/** A code of the catalog. */
export type MeshErrorCode = keyof typeof MESH_ERRORS;

/** The JSON body of a mesh error: `{"error","message","service","version","flags"}`. */
export interface MeshErrorBody {
  error: MeshErrorCode;
  message: string;
  service: string;
  version: string | null;
  flags: ResponseFlag[];
}

/** Builds the body and status of a mesh error. */
export function meshError(
  code: MeshErrorCode,
  context: ErrorContext,
  extraFlags: ResponseFlag[] = [],
  status?: number,
): { status: number; body: MeshErrorBody } {
  const entry: CatalogEntry = MESH_ERRORS[code];
  const flags = [...extraFlags];
  if (entry.flag && !flags.includes(entry.flag)) flags.push(entry.flag);
  return {
    status: status ?? entry.status,
    body: {
      error: code,
      message: entry.message(context),
      service: context.service,
      version: context.version && context.version !== DEFAULT_VERSION ? context.version : null,
      flags,
    },
  };
}

/**
 * A mesh error as a whole HTTP/1.1 response, written straight on a socket that has no
 * `ServerResponse` (a refused request, a failed tunnel); the connection closes after it.
 */
export function rawMeshError(
  code: MeshErrorCode,
  context: ErrorContext,
  extraHeaders: Readonly<Record<string, string>> = {},
): string {
  const error = meshError(code, context);
  const text = JSON.stringify(error.body);
  return [
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}`,
    'content-type: application/json',
    `content-length: ${Buffer.byteLength(text)}`,
    `x-meshdev-error: ${code}`,
    ...Object.entries(extraHeaders).map(([name, value]) => `${name}: ${value}`),
    'connection: close',
    '',
    text,
  ].join('\r\n');
}

function label(c: ErrorContext): string {
  return instanceLabel(c.service, c.version);
}
