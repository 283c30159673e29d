/**
 * The endpoint a call belongs to, so `/users/1`, `/users/2` and `/users/3` are one endpoint:
 * the callee's OpenAPI operation when it has a spec (`GET /users/{id}`), else the route
 * template that matched (the path itself where only a gateway prefix matched), with segments that look like ids — numbers, UUIDs, long hex
 * strings (16+ digits) — replaced by `:id`.
 */
import type { CallRecord } from './call-record.js';

const ID_SEGMENT =
  /^(\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{16,})$/i;

/** `GET /users/{id}`, or `GET /users/:id` by the heuristic. */
export function endpointOf(
  call: Pick<CallRecord, 'operation' | 'method' | 'route'> & { path?: string },
): string {
  if (call.operation) return call.operation;
  // A gateway prefix (`/api*`) says less than the path itself.
  const route = call.route.endsWith('*') && call.path !== undefined ? call.path : call.route;
  return `${call.method} ${templatePath(route)}`;
}

/** Templates already worked out: every call is grouped, and routes repeat. */
const templates = new Map<string, string>();
const MAX_TEMPLATES = 1_000;

/** Replaces id-like segments of a path by `:id`. */
export function templatePath(pathname: string): string {
  const known = templates.get(pathname);
  if (known !== undefined) return known;
  const template = pathname
    .split('?')[0]!
    .split('/')
    .map((segment) => (ID_SEGMENT.test(segment) ? ':id' : segment))
    .join('/');
  // Paths with ids are endless: start over rather than grow without bound.
  if (templates.size >= MAX_TEMPLATES) templates.clear();
  templates.set(pathname, template);
  return template;
}
