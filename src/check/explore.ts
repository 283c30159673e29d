/**
 * Schemathesis-style exploration for `meshdev check`: requests made up from a service's
 * contract — every operation, `perOperation` times, each one valid against the contract
 * (parameters, content type, body; optional parameters sometimes left out) — for the
 * scenario to send through the gateway. As Schemathesis' explicit phase, an operation's
 * first request uses the examples the document gives (the rest made up). The mesh's contract check then judges the answers
 * as it judges any call: an undeclared status, a body off its schema, a missing header;
 * a 5xx counts in `errorRate` and `status`. A request the generator cannot make valid in
 * a few tries is left out and said so, never sent as if it were valid.
 */
import { checkRequest } from '../contracts/check-request.js';
import type { Contract } from '../contracts/contract.js';
import { declaredExample, essenceOf, isJson } from '../contracts/mock-content.js';
import { fakeValue } from '../contracts/mock-dynamic.js';
import type { DocPath, MediaSpec, Operation, ParameterSpec } from '../contracts/operations.js';
import type { Random } from '../lib/random.js';

/** One made-up request, its path as the gateway takes it. */
export interface ExploredRequest {
  /** `GET /orders/{id}`. */
  operation: string;
  method: string;
  /** Path and query at the gateway. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/** What exploring one contract made, and what it had to leave out. */
export interface Exploration {
  requests: ExploredRequest[];
  skipped: Array<{ operation: string; reason: string }>;
}

/** Where a service's operations are at the gateway: a route's prefix, stripped or not. */
export interface GatewayPlace {
  prefix: string;
  stripPrefix: boolean;
}

/** Tries at one valid request before that example is left out. */
const TRIES = 5;

/**
 * Makes `perOperation` requests for each operation of `contract`, each through the first
 * of `places` (the gateway routes to the service, in order) that reaches it.
 */
export function exploreContract(
  contract: Contract,
  places: readonly GatewayPlace[],
  perOperation: number,
  random: Random,
  headers: Readonly<Record<string, string>> = {},
): Exploration {
  const out: Exploration = { requests: [], skipped: [] };
  for (const operation of contract.index.operations) {
    const servicePath = contract.index.basePath + operation.template;
    const place = places.find((candidate) => gatewayPath(candidate, servicePath) !== undefined);
    if (!place) {
      const routes = places.map((candidate) => candidate.prefix).join(', ');
      out.skipped.push({
        operation: operation.key,
        reason: `no gateway route reaches ${servicePath} (routes to the service: ${routes}; one with stripPrefix reaches every path)`,
      });
      continue;
    }
    const body = bodyMedia(operation);
    if (body === 'unsupported') {
      out.skipped.push({
        operation: operation.key,
        reason: `its request body (${operation.body!.content.map((m) => m.type).join(', ')}) is not one explore makes up (JSON or a form)`,
      });
      continue;
    }
    let made = 0;
    let lastProblem = '';
    for (let i = 0; i < perOperation; i++) {
      const attempt = validRequest(contract, place, operation, body, random, headers, i === 0);
      if (attempt.kind === 'request') {
        out.requests.push(attempt.request);
        made++;
      } else lastProblem = attempt.problem;
    }
    if (made < perOperation) {
      out.skipped.push({
        operation: operation.key,
        reason: `${perOperation - made} of ${perOperation} requests left out: no valid one in ${TRIES} tries (${lastProblem})`,
      });
    }
  }
  return out;
}

/** A request for `operation` that its contract accepts, or why none came. */
function validRequest(
  contract: Contract,
  place: GatewayPlace,
  operation: Operation,
  body: MediaSpec | undefined,
  random: Random,
  headers: Readonly<Record<string, string>>,
  explicit: boolean,
): { kind: 'request'; request: ExploredRequest } | { kind: 'none'; problem: string } {
  let problem = '';
  for (let i = 0; i < TRIES; i++) {
    // The document's examples first (once: an example its own contract refuses is not
    // tried again), made-up values for what has none and for every later try.
    const withExamples = explicit && i === 0;
    const request = madeUpRequest(contract, place, operation, body, random, headers, withExamples);
    if (!request) {
      problem = 'a schema the generator cannot fill';
      continue;
    }
    // Checked as the mesh will check it: at the service's own path.
    const match = contract.index.match(operation.method, request.servicePath);
    if (match.kind !== 'operation' || match.operation !== operation) {
      problem = `${request.servicePath} matches another operation`;
      continue;
    }
    const errors = checkRequest(contract, operation, match.pathParams, {
      method: operation.method,
      query: request.query,
      headers: lowerKeys(request.explored.headers),
      body: request.explored.body ?? Buffer.alloc(0),
      bodyKnown: true,
    }).filter((violation) => violation.severity === 'error');
    if (errors.length === 0) return { kind: 'request', request: request.explored };
    problem = errors[0]!.message;
  }
  return { kind: 'none', problem };
}

/** One made-up request, before it is checked. */
function madeUpRequest(
  contract: Contract,
  place: GatewayPlace,
  operation: Operation,
  bodyMediaSpec: MediaSpec | undefined,
  random: Random,
  extraHeaders: Readonly<Record<string, string>>,
  withExamples: boolean,
): { explored: ExploredRequest; query: string; servicePath: string } | undefined {
  const doc = contract.spec.doc;
  // A parameter's holder (whose `example` counts) is the object its schema sits in.
  const example = (schemaPath: DocPath) =>
    withExamples ? declaredExample(doc, schemaPath.slice(0, -1), schemaPath) : undefined;
  const make = (param: ParameterSpec) =>
    param.schemaPath
      ? (example(param.schemaPath) ?? fakeValue(doc, param.schemaPath, random, 'request'))
      : 'x';
  const pathValues: Record<string, string> = {};
  const query: string[] = [];
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const param of operation.parameters) {
    // Optional parameters are left out half the time: both shapes get exercised.
    if (!param.required && param.in !== 'path' && random() < 0.5) continue;
    const value = make(param);
    if (value === undefined) return undefined;
    if (param.in === 'path') pathValues[param.name] = pathValue(param, value);
    else if (param.in === 'query') query.push(...queryPairs(param, value));
    else if (param.in === 'header') headers[param.name.toLowerCase()] = textValue(param, value);
    else cookies.push(`${param.name}=${encodeURIComponent(textValue(param, value))}`);
  }
  if (cookies.length > 0) headers.cookie = cookies.join('; ');
  let body: Buffer | undefined;
  if (bodyMediaSpec?.schemaPath) {
    const declared = withExamples
      ? declaredExample(doc, bodyMediaSpec.path, bodyMediaSpec.schemaPath)
      : undefined;
    const value = declared ?? fakeValue(doc, bodyMediaSpec.schemaPath, random, 'request');
    if (value === undefined) return undefined;
    const type = essenceOf(bodyMediaSpec);
    body = Buffer.from(isJson(type) ? JSON.stringify(value) : formBody(value));
    headers['content-type'] = type;
  }
  const queryText = query.join('&');
  const servicePath = contract.index.basePath + filledPath(operation, pathValues);
  const path = gatewayPath(place, servicePath)!;
  return {
    explored: {
      operation: operation.key,
      method: operation.method,
      path: queryText ? `${path}?${queryText}` : path,
      headers: { ...headers, ...extraHeaders },
      body,
    },
    query: queryText,
    servicePath,
  };
}

/** The media type of the body to make up; undefined for none; 'unsupported' when required and neither JSON nor a form. */
function bodyMedia(operation: Operation): MediaSpec | undefined | 'unsupported' {
  const content = operation.body?.content ?? [];
  const usable = content.find(
    (media) =>
      media.schemaPath &&
      (isJson(essenceOf(media)) || essenceOf(media) === 'application/x-www-form-urlencoded'),
  );
  if (usable) return usable;
  return operation.body?.required ? 'unsupported' : undefined;
}

/** The operation's template with its path parameters in (already encoded). */
function filledPath(operation: Operation, values: Readonly<Record<string, string>>): string {
  return operation.template.replace(/\{([^}]+)\}/g, (_, name: string) => values[name] ?? name);
}

/** Where `servicePath` is at the gateway, or undefined when the route cannot reach it. */
function gatewayPath(place: GatewayPlace, servicePath: string): string | undefined {
  const prefix = place.prefix.replace(/\/+$/, '');
  if (place.stripPrefix) return `${prefix}${servicePath}`;
  const reaches = prefix === '' || servicePath === prefix || servicePath.startsWith(`${prefix}/`);
  return reaches ? servicePath : undefined;
}

/** A path parameter, `simple` style (arrays and objects comma-joined), percent-encoded. */
function pathValue(param: ParameterSpec, value: unknown): string {
  if (param.json) return encodeURIComponent(JSON.stringify(value));
  if (Array.isArray(value)) return value.map((item) => encodeURIComponent(String(item))).join(',');
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).map(([k, v]) => [k, String(v)]);
    return entries
      .map(([k, v]) => (param.explode ? `${k}=${v}` : `${k},${v}`))
      .map(encodeURIComponent)
      .join(',');
  }
  return encodeURIComponent(String(value));
}

/** A query parameter as `name=value` pairs, by its style (form, delimited, deepObject). */
function queryPairs(param: ParameterSpec, value: unknown): string[] {
  const name = encodeURIComponent(param.name);
  const pair = (key: string, item: unknown) =>
    `${key}=${encodeURIComponent(typeof item === 'object' ? JSON.stringify(item) : String(item))}`;
  if (param.json) return [pair(name, value)];
  if (Array.isArray(value)) {
    if (param.style === 'spaceDelimited') return [pair(name, value.join(' '))];
    if (param.style === 'pipeDelimited') return [pair(name, value.join('|'))];
    return param.explode ? value.map((item) => pair(name, item)) : [pair(name, value.join(','))];
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    if (param.style === 'deepObject')
      return entries.map(([key, item]) => pair(`${name}[${encodeURIComponent(key)}]`, item));
    if (param.explode) return entries.map(([key, item]) => pair(encodeURIComponent(key), item));
    return [pair(name, entries.flat().join(','))];
  }
  return [pair(name, value)];
}

/** A header or cookie value (`simple` style). */
function textValue(param: ParameterSpec, value: unknown): string {
  if (param.json) return JSON.stringify(value);
  if (Array.isArray(value)) return value.join(',');
  if (value && typeof value === 'object')
    return Object.entries(value)
      .flat()
      .map((item) => String(item))
      .join(',');
  return String(value);
}

/** An object made up for a form body, as `application/x-www-form-urlencoded`. */
function formBody(value: unknown): string {
  const form = new URLSearchParams();
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, item] of Object.entries(value)) {
      for (const one of Array.isArray(item) ? item : [item])
        form.append(key, typeof one === 'object' ? JSON.stringify(one) : String(one));
    }
  }
  return form.toString();
}

function lowerKeys(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}
