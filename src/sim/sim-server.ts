/**
 * A simulated service: a real HTTP server on an ephemeral loopback port, behind the same
 * inbound listener as any real service. Routes answer with templated bodies after a
 * modelled latency, an error rate, and calls to upstreams made through the service's own
 * outbound listeners (so downstream faults, splits and retries shape the answer).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SimCall, SimRoute, SimSpec } from '../config/model.js';
import { templateRegex } from '../lib/match.js';
import { escapeRegex } from '../lib/regex.js';
import type { Random } from '../lib/random.js';
import { sampleLatency } from '../lib/latency.js';
import { renderTemplate, renderText, type TemplateScope } from './template.js';
import type { MockAnswer, MockRequest } from '../contracts/mock.js';

export interface SimServerOptions {
  service: string;
  version: string;
  spec: SimSpec;
  random: Random;
  /** The caller's outbound listener URL for an upstream, resolved at call time. */
  outboundUrl: (upstream: string) => string | undefined;
  /**
   * `sim.spec: true`: answers what no route answers from the contract in force (a promise
   * when it first loads what a dynamic answer needs).
   */
  mock?: (request: MockRequest) => MockAnswer | undefined | Promise<MockAnswer | undefined>;
}

/** A started simulated instance. */
export interface SimServer {
  port: number;
  close(): Promise<void>;
}

interface CompiledRoute {
  route: SimRoute;
  path: RegExp;
}

/** A sim route's path: a template (`/items/:id`), or a prefix (`/api/*`, `/*`: every path). */
function simPathRegex(path: string): RegExp {
  if (!path.endsWith('*')) return templateRegex(path);
  const prefix = escapeRegex(path.slice(0, -1));
  return new RegExp(`^${prefix}`);
}

/** Starts the simulated instance on 127.0.0.1 with a port from the OS. */
export async function startSimServer(options: SimServerOptions): Promise<SimServer> {
  const routes: CompiledRoute[] = options.spec.routes.map((route) => ({
    route,
    path: simPathRegex(route.path),
  }));
  const server = http.createServer((req, res) => {
    void answer(options, routes, req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'sim_failed', service: options.service }));
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function answer(
  options: SimServerOptions,
  routes: CompiledRoute[],
  req: http.IncomingMessage,
  res: http.ServerResponse,
) {
  const url = new URL(req.url ?? '/', 'http://sim');
  const method = req.method ?? 'GET';
  const received = await readBody(req);
  const raw = received.toString('utf8');
  let params: Record<string, string> | undefined;
  const found = routes.find(({ route, path }) => {
    if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) return false;
    const match = path.exec(url.pathname);
    // Path parameters are values, as a web framework gives them: percent-decoded.
    if (match)
      params = Object.fromEntries(
        Object.entries(match.groups ?? {}).map(([name, value]) => [name, decodeSegment(value)]),
      );
    return match !== null;
  });
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(method === 'HEAD' ? undefined : text);
  };
  if (!found) {
    const mocked = await options.mock?.({
      method,
      pathname: url.pathname,
      query: url.search.slice(1),
      headers: req.headers,
      body: received,
    });
    if (mocked) return answerMock(options, mocked, method, res);
    return json(404, {
      error: 'not_found',
      message: `${options.service} has no simulated route for ${method} ${url.pathname}`,
      service: options.service,
    });
  }
  const { route } = found;
  const { spec, random } = options;
  const latency = route.latency ?? spec.latency;
  if (latency) await sleep(sampleLatency(latency, random));

  const errors = route.errors ?? spec.errors;
  if (errors && random() * 100 < errors.percent) {
    return json(errors.status, {
      error: 'simulated_error',
      service: options.service,
      version: options.version,
    });
  }

  // What templates read: in the calls below and in the answer.
  const scope: TemplateScope = {
    params: params ?? {},
    query: Object.fromEntries(url.searchParams),
    body: parseJson(raw),
    headers: req.headers,
  };
  const results: Record<string, CallResult> = {};
  scope.calls = results;
  const make = async (call: SimCall) => {
    const result = await callUpstream(options, call, req, scope);
    results[call.name] =
      result.ok || call.fallback === undefined
        ? result
        : { ...result, body: renderTemplate(call.fallback, scope) };
    return result;
  };
  // In parallel every call is made, then the first failure (in order) decides; one after
  // another, a failure stops the rest, and later calls see earlier results.
  const parallel = route.parallel ? await Promise.all(route.calls.map(make)) : undefined;
  for (const [index, call] of route.calls.entries()) {
    const result = parallel ? parallel[index]! : await make(call);
    if (result.ok || call.fallback !== undefined || call.onError === 'ignore') continue;
    const onError = call.onError;
    if (typeof onError === 'object' && onError.body !== undefined) {
      return json(onError.status, renderTemplate(onError.body, scope));
    }
    const status =
      onError === 'fail' ? 502 : typeof onError === 'object' ? onError.status : onError;
    return json(status, {
      error: 'upstream_failed',
      message: `${options.service} called ${call.service} ${call.method} ${call.path}: ${result.error}`,
      service: options.service,
      upstream: call.service,
    });
  }

  const body =
    route.body === undefined
      ? { service: options.service, version: options.version, ok: true }
      : renderTemplate(route.body, scope);
  json(route.status, body, route.headers ? { ...route.headers } : {});
}

/** Sends a contract mock's answer, after the instance's latency and error rate. */
async function answerMock(
  options: SimServerOptions,
  mocked: MockAnswer,
  method: string,
  res: http.ServerResponse,
): Promise<void> {
  const { spec, random } = options;
  if (spec.latency) await sleep(sampleLatency(spec.latency, random));
  if (spec.errors && random() * 100 < spec.errors.percent) {
    const text = JSON.stringify({
      error: 'simulated_error',
      service: options.service,
      version: options.version,
    });
    res.writeHead(spec.errors.status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    });
    return void res.end(text);
  }
  const body = mocked.body ?? Buffer.alloc(0);
  res.writeHead(mocked.status, { ...mocked.headers, 'content-length': body.length });
  res.end(method === 'HEAD' || mocked.status === 204 ? undefined : body);
}

/**
 * The headers a call carries: those of the served request that the instance propagates
 * (`SimSpec.propagate`: Istio's trace headers and `mesh.propagate`), then the call's own,
 * rendered (`{{headers.end-user}}`), which win.
 */
export function callHeaders(
  propagate: readonly string[],
  incoming: http.IncomingHttpHeaders,
  own: Readonly<Record<string, string>> | undefined,
  scope: TemplateScope,
): Record<string, string> {
  const headers: Record<string, string> = {};
  const prefixes = propagate.filter((name) => name.endsWith('*')).map((name) => name.slice(0, -1));
  const exact = new Set(propagate);
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    if (!exact.has(name) && !prefixes.some((prefix) => name.startsWith(prefix))) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  for (const [name, value] of Object.entries(own ?? {})) {
    const rendered = renderText(value, scope);
    // A placeholder with nothing behind it sends no header rather than an empty one.
    if (rendered !== '' || value === '') headers[name.toLowerCase()] = rendered;
  }
  return headers;
}

/** What a call of a simulated route came back with, as templates read it. */
export interface CallResult {
  /** An answer below 500 (within the app's own timeout, after its own retries). */
  ok: boolean;
  /** 0 when no answer came. */
  status: number;
  /** The answer's body: parsed JSON, else text; or the call's `fallback` when it failed. */
  body: unknown;
  /** Why it failed: `status 503`, `timed out after 3000ms`, `ECONNRESET`. */
  error?: string;
  attempts: number;
}

/** Largest answer body a simulated app reads into a template (bytes). */
const MAX_CALL_BODY = 1024 * 1024;

/**
 * Makes one call through the instance's outbound listener with the app's own client:
 * its `timeout` per attempt and its `retries` on a 5xx, a reset or that timeout.
 */
async function callUpstream(
  options: SimServerOptions,
  call: SimCall,
  incoming: http.IncomingMessage,
  scope: TemplateScope,
): Promise<CallResult> {
  const base = options.outboundUrl(call.service);
  if (!base) {
    return {
      ok: false,
      status: 0,
      body: undefined,
      error: `no outbound listener for ${call.service}`,
      attempts: 0,
    };
  }
  const headers = callHeaders(options.spec.propagate, incoming.headers, call.headers, scope);
  let body: string | undefined;
  if (call.body !== undefined) {
    body = JSON.stringify(renderTemplate(call.body, scope));
    headers['content-type'] = 'application/json';
  }
  // Path placeholders are percent-encoded: `/reviews/{{params.id}}` stays one segment.
  const path = renderText(call.path, scope, encodeURIComponent);
  let last: CallResult = { ok: false, status: 0, body: undefined, attempts: 0 };
  for (let attempt = 1; attempt <= 1 + call.retries; attempt++) {
    last = await attemptCall(`${base}${path}`, call, headers, body, attempt);
    if (last.ok) return last;
  }
  return last;
}

let requestApi: typeof import('undici').request | undefined;

/** undici's request API, loaded when a simulated service first calls out (not at start). */
async function loadRequestApi(): Promise<typeof import('undici').request> {
  requestApi = (await import('undici')).request;
  return requestApi;
}

async function attemptCall(
  url: string,
  call: SimCall,
  headers: Record<string, string>,
  body: string | undefined,
  attempts: number,
): Promise<CallResult> {
  // Loaded before the call's own timeout starts.
  const undiciRequest = requestApi ?? (await loadRequestApi());
  const signal = call.timeoutMs === undefined ? undefined : AbortSignal.timeout(call.timeoutMs);
  try {
    const response = await undiciRequest(url, {
      method: call.method as never,
      headers,
      body,
      signal,
    });
    const text = await readCapped(response.body);
    const type = String(response.headers['content-type'] ?? '');
    const parsed = type.includes('json') ? parseJson(text) : text;
    const ok = response.statusCode < 500;
    return {
      ok,
      status: response.statusCode,
      body: parsed,
      ...(!ok && { error: `status ${response.statusCode}` }),
      attempts,
    };
  } catch (error) {
    const timedOut = signal?.aborted === true;
    return {
      ok: false,
      status: 0,
      body: undefined,
      error: timedOut
        ? `timed out after ${call.timeoutMs}ms`
        : ((error as NodeJS.ErrnoException).code ?? (error as Error).message),
      attempts,
    };
  }
}

/** Reads a body as text, up to `MAX_CALL_BODY` bytes (the rest is dropped). */
async function readCapped(stream: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    if (size < MAX_CALL_BODY) chunks.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(chunks).subarray(0, MAX_CALL_BODY).toString('utf8');
}

function decodeSegment(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value; // a malformed escape stays as it came
  }
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
