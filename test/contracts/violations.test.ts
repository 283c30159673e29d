/**
 * Every kind of contract violation, end to end: a real client calls through the gateway,
 * the contract stage checks the call against the callee's OpenAPI spec (3.0 with `$ref`s
 * across files, and 3.1), and the call record must carry exactly the expected
 * `location / severity / code` triples. The upstream answers what each case scripts.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPLY_HEADER, scripted } from '../../fixtures/servers/upstreams.js';
import type { CallRecord } from '../../src/telemetry/call-record.js';
import { testScope } from '../helpers/scope.js';

const scope = testScope();
const FIXTURES = path.resolve('fixtures/contracts');

const config = `version: 1
mesh: { name: ct, mtls: off, admin: { port: 0 }, ports: { from: 0 } }
gateway:
  port: 0
  routes:
    - { path: /orders, service: orders }
    - { path: /items, service: catalog }
services:
  orders: { port: "\${P}", spec: ${FIXTURES}/orders.openapi.yaml }
  catalog: { port: "\${Q}", spec: ${FIXTURES}/catalog.openapi.yaml }
`;

interface Case {
  name: string;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  reply?: { status?: number; headers?: Record<string, string>; body?: unknown };
  /** `location severity code`, e.g. `request.query.limit error type`. */
  expected: string[];
}

const tenant = { 'x-tenant': 't-1' };
const listReply = { headers: { 'x-total': '1' }, body: [{ id: 1, item: 'a', quantity: 1 }] };
const order = { id: 1, item: 'book', quantity: 2 };
const json = { 'content-type': 'application/json' };
const key = { 'x-api-key': 'k-1' };

const cases: Case[] = [
  { name: 'a valid call', path: '/orders/1', reply: { body: order }, expected: [] },
  {
    name: 'path parameter of the wrong type',
    path: '/orders/abc',
    reply: { body: order },
    expected: ['request.path.id error type'],
  },
  {
    name: 'boolean exclusiveMinimum (3.0, draft-04 semantics)',
    path: '/orders/0',
    reply: { body: order },
    expected: ['request.path.id error minimum'],
  },
  {
    name: 'query parameter coerced and checked',
    path: '/orders?limit=abc',
    headers: tenant,
    reply: listReply,
    expected: ['request.query.limit error type'],
  },
  {
    name: 'query parameter in range after coercion',
    path: '/orders?limit=5&status=open&status=shipped',
    headers: tenant,
    reply: listReply,
    expected: [],
  },
  {
    name: 'exploded array item outside its enum',
    path: '/orders?status=open&status=lost',
    headers: tenant,
    reply: listReply,
    expected: ['request.query.status.1 error enum'],
  },
  {
    name: 'required header missing',
    path: '/orders',
    reply: listReply,
    expected: ['request.header.x-tenant error required'],
  },
  {
    name: 'header against its schema',
    path: '/orders',
    headers: { 'x-tenant': 'acme' },
    reply: listReply,
    expected: ['request.header.x-tenant error pattern'],
  },
  {
    name: 'deprecated parameter used',
    path: '/orders?legacy=true',
    headers: tenant,
    reply: listReply,
    expected: ['request.query.legacy warning deprecated'],
  },
  {
    name: 'request body against its schema (readOnly id not required)',
    method: 'POST',
    path: '/orders',
    headers: { ...json, ...key },
    body: JSON.stringify({ item: '', quantity: 0 }),
    reply: { status: 201, body: order },
    expected: ['request.body.item error minLength', 'request.body.quantity error minimum'],
  },
  {
    name: 'required body missing',
    method: 'POST',
    path: '/orders',
    headers: key,
    reply: { status: 400, body: { message: 'no body' } },
    expected: ['request.body error required'],
  },
  {
    name: 'content type not declared',
    method: 'POST',
    path: '/orders',
    headers: { 'content-type': 'text/plain', ...key },
    body: 'one book',
    reply: { status: 415, body: { message: 'no' } },
    expected: ['request.header.content-type error 415'],
  },
  {
    name: 'security requirement not met (apiKey)',
    method: 'POST',
    path: '/orders',
    headers: json,
    body: JSON.stringify({ item: 'book', quantity: 1 }),
    reply: { status: 201, body: order },
    expected: ['request.header.x-api-key error 401'],
  },
  {
    name: 'unknown path',
    path: '/orders/1/archive',
    reply: { status: 404, body: { message: 'no' } },
    expected: ['request.path warning unknown-path'],
  },
  {
    name: 'unknown method',
    method: 'DELETE',
    path: '/orders',
    reply: { status: 405, body: { message: 'no' } },
    expected: ['request.method warning unknown-method'],
  },
  {
    name: 'undeclared 2xx status',
    method: 'POST',
    path: '/orders',
    headers: { ...json, ...key },
    body: JSON.stringify({ item: 'book', quantity: 1 }),
    reply: { status: 200, body: order },
    expected: ['response.status error undeclared-status'],
  },
  {
    name: 'undeclared 5xx status is a warning',
    method: 'POST',
    path: '/orders',
    headers: { ...json, ...key },
    body: JSON.stringify({ item: 'book', quantity: 1 }),
    reply: { status: 500, body: { message: 'boom' } },
    expected: ['response.status warning undeclared-status'],
  },
  {
    name: 'a 4XX range counts as declared, and its body is checked',
    method: 'POST',
    path: '/orders',
    headers: { ...json, ...key },
    body: JSON.stringify({ item: 'book', quantity: 1 }),
    reply: { status: 409, body: { reason: 'duplicate' } },
    expected: ['response.body.message error required'],
  },
  {
    name: 'default counts as declared',
    path: '/orders/1',
    reply: { status: 404, body: { message: 'no such order' } },
    expected: [],
  },
  {
    name: 'response content type not declared',
    path: '/orders/1',
    reply: { headers: { 'content-type': 'text/plain' }, body: 'book' },
    expected: ['response.header.content-type error undeclared-content-type'],
  },
  {
    name: 'required response header missing',
    path: '/orders',
    headers: tenant,
    reply: { body: [order] },
    expected: ['response.header.x-total error required'],
  },
  {
    name: 'response header against its schema',
    path: '/orders',
    headers: tenant,
    reply: { headers: { 'x-total': 'many' }, body: [order] },
    expected: ['response.header.x-total error type'],
  },
  {
    name: 'response body against its schema, across a file $ref',
    path: '/orders/1',
    reply: { body: { id: 'one', item: 'book', quantity: 2 } },
    expected: ['response.body.id error type'],
  },
  {
    name: 'nullable (3.0) accepts null',
    path: '/orders/1',
    reply: { body: { ...order, note: null } },
    expected: [],
  },
  {
    name: '3.1: unevaluatedProperties through allOf',
    path: '/items/ABC-1',
    reply: { body: { sku: 'ABC-1', colour: 'red' } },
    expected: ['response.body.colour error unevaluatedProperties'],
  },
  {
    name: '3.1: dependentRequired',
    path: '/items/ABC-1',
    reply: { body: { sku: 'ABC-1', price: 3 } },
    expected: ['response.body.currency error dependentRequired'],
  },
  {
    name: '3.1: type arrays with null',
    path: '/items/ABC-1',
    reply: { body: { sku: 'ABC-1', price: null, currency: 'EUR' } },
    expected: [],
  },
  {
    name: '3.1: path parameter pattern',
    path: '/items/abc',
    reply: { body: { sku: 'abc' } },
    expected: ['request.path.sku error pattern'],
  },
  {
    name: 'security requirement not met (http bearer)',
    method: 'POST',
    path: '/items',
    headers: { ...json, authorization: 'Basic eDp5' },
    body: JSON.stringify({ sku: 'ABC-1' }),
    reply: { status: 201 },
    expected: ['request.header.authorization error 401'],
  },
];

describe('contract violations, per kind (report mode)', () => {
  it.each(cases)('$name', async (c) => {
    const orders = await scope.server(scripted());
    const catalog = await scope.server(scripted());
    const m = await scope.mesh(config, { P: String(orders.port), Q: String(catalog.port) });
    const response = await fetch(`${m.gateway}${c.path}`, {
      method: c.method ?? 'GET',
      headers: { ...c.headers, [REPLY_HEADER]: JSON.stringify(c.reply ?? {}) },
      body: c.body,
    });
    const text = await response.text();
    // Report mode never changes the answer: the upstream's status and body arrive as sent.
    expect(response.status).toBe(c.reply?.status ?? 200);
    if (typeof c.reply?.body === 'object') expect(JSON.parse(text)).toEqual(c.reply.body);
    const call = await recorded(m.calls);
    const seen = (call.violations ?? []).map(
      (v) => `${v.location.join('.')} ${v.severity} ${v.code}`,
    );
    expect(seen.sort()).toEqual([...c.expected].sort());
    expect(call.flags.includes('CV')).toBe(c.expected.some((e) => e.includes(' error ')));
  });
});

/** The call record of the one call made (records follow the response by a tick). */
async function recorded(calls: CallRecord[]): Promise<CallRecord> {
  for (let i = 0; i < 200 && calls.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  expect(calls).toHaveLength(1);
  return calls[0]!;
}
