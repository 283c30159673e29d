/**
 * The admin API's routes, one entry each: method, path, handler. `admin.ts` guards every
 * request (loopback Host, no browser Origin, the token for mutations) before dispatching.
 */
import type http from 'node:http';
import type { CallRecord } from '../telemetry/call-record.js';
import type { MeshBus } from '../telemetry/bus.js';
import { RuntimeChangeError } from '../dataplane/runtime.js';
import { admitFault, admitRoute, admitSplit } from './admission.js';
import type { AdminHost } from './admin.js';
import { parseDuration } from '../config/units.js';

/** One request to a route of the admin API. */
export interface AdminRequest {
  host: AdminHost;
  req: http.IncomingMessage;
  res: http.ServerResponse;
  url: URL;
  /** The path's captures, decoded. */
  params: string[];
  /** Whether the bearer token came with it (GETs are open, but show less without it). */
  withToken: boolean;
}

export interface AdminRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string | RegExp;
  handle(request: AdminRequest): void | Promise<void>;
}

/** The admin API, one route each (mutations need the token, checked before). */
export const ADMIN_ROUTES: readonly AdminRoute[] = [
  {
    method: 'GET',
    path: '/metrics',
    async handle({ host, res }) {
      res.writeHead(200, { 'content-type': host.metrics.registry.contentType });
      res.end(await host.metrics.text());
    },
  },
  {
    method: 'GET',
    path: '/v1/state',
    handle: ({ host, res }) =>
      json(res, 200, { ...host.describe(), services: host.runtime().state() }),
  },
  {
    method: 'GET',
    path: '/v1/calls',
    handle: ({ host, req, res, url, withToken }) =>
      streamCalls(host.bus, url, req, res, withToken ? (call) => call : redactQuery),
  },
  {
    method: 'GET',
    path: '/v1/calls/recent',
    handle({ host, res, url, withToken }) {
      // Query strings may carry secrets (`?api_key=…`): without the token, values are redacted.
      const matches = callFilter(url);
      const calls = host.recentCalls().filter(matches).slice(0, 100);
      json(res, 200, { calls: withToken ? calls : calls.map(redactQuery) });
    },
  },
  {
    method: 'GET',
    path: '/v1/dashboard',
    handle({ host, res, url, withToken }) {
      const flag = (name: string) => url.searchParams.get(name) === '1';
      const frame = host.dashboard({ contracts: flag('contracts'), usage: flag('usage') });
      // Query strings may carry secrets: without the token, values are redacted.
      if (!withToken) {
        frame.calls = frame.calls.map(redactQuery);
        if (frame.contracts)
          frame.contracts = { ...frame.contracts, recent: frame.contracts.recent.map(redactQuery) };
      }
      json(res, 200, frame);
    },
  },
  {
    method: 'GET',
    path: /^\/v1\/logs\/([^/]+)$/,
    handle({ host, res, params: [instance = ''], withToken }) {
      // A service's output is as private as its log file (0600): the token is required.
      if (!withToken)
        return json(res, 401, { error: 'unauthorized', message: 'logs need the admin token' });
      json(res, 200, { instance, lines: host.logs(instance) });
    },
  },
  {
    method: 'GET',
    path: '/v1/jwks',
    handle({ host, res }) {
      // Public keys only: what a service needs to verify meshdev's development tokens.
      json(res, 200, host.jwks() ?? { keys: [] });
    },
  },
  {
    method: 'GET',
    path: '/v1/usage',
    handle({ host, res, url }) {
      const since = url.searchParams.get('since');
      const sinceMs = since === null ? undefined : parseDuration(since);
      if (since !== null && sinceMs === undefined) {
        return json(res, 400, {
          error: 'bad_request',
          message: `since: "${since}" is not a duration`,
        });
      }
      json(res, 200, { consumers: host.usage(sinceMs) });
    },
  },
  {
    method: 'POST',
    path: '/v1/usage/reset',
    async handle({ host, req, res }) {
      const body = (await readJson(req)) as { consumer?: unknown } | undefined;
      const consumer = typeof body?.consumer === 'string' ? body.consumer : undefined;
      json(res, 200, { cleared: host.resetUsage(consumer) });
    },
  },
  {
    method: 'GET',
    path: '/v1/plans',
    handle: ({ host, res }) => json(res, 200, { overlays: host.runtime().planOverlays() }),
  },
  {
    method: 'PUT',
    path: /^\/v1\/consumers\/([^/]+)\/plan$/,
    async handle({ host, req, res, params: [consumer = ''] }) {
      const body = (await readJson(req)) as { plan?: unknown } | undefined;
      const plan = typeof body?.plan === 'string' ? body.plan : null;
      change(res, 200, () => {
        host.runtime().setPlan(consumer, plan);
        return { consumer, plan: host.runtime().planOf(consumer) ?? null, overlay: plan !== null };
      });
    },
  },
  {
    method: 'GET',
    path: '/v1/contracts',
    handle({ host, res, withToken }) {
      const snapshot = host.contracts();
      json(
        res,
        200,
        withToken ? snapshot : { ...snapshot, recent: snapshot.recent.map(redactQuery) },
      );
    },
  },
  {
    method: 'POST',
    path: '/v1/faults',
    async handle({ host, req, res }) {
      const body = await readJson(req);
      change(res, 201, () => admitFault(host.runtime(), body));
    },
  },
  {
    method: 'DELETE',
    path: /^\/v1\/faults\/([^/]+)$/,
    handle({ host, res, params: [id = ''] }) {
      if (!host.runtime().removeFault(id)) {
        return json(res, 404, {
          error: 'not_found',
          message: `no runtime fault "${id}" (file faults change in the config)`,
        });
      }
      json(res, 200, { removed: id });
    },
  },
  {
    method: 'DELETE',
    path: '/v1/faults',
    handle: ({ host, res, url }) =>
      json(res, 200, {
        removed: host.runtime().clearFaults(url.searchParams.get('service') ?? undefined),
      }),
  },
  {
    method: 'POST',
    path: '/v1/routes',
    async handle({ host, req, res }) {
      const body = await readJson(req);
      change(res, 201, () => admitRoute(host.runtime(), body));
    },
  },
  {
    method: 'DELETE',
    path: /^\/v1\/routes\/([^/]+)$/,
    handle({ host, res, params: [id = ''] }) {
      if (!host.runtime().removeRoute(id)) {
        return json(res, 404, {
          error: 'not_found',
          message: `no runtime route "${id}" (file routes change in the config)`,
        });
      }
      json(res, 200, { removed: id });
    },
  },
  {
    method: 'DELETE',
    path: '/v1/routes',
    handle: ({ host, res, url }) =>
      json(res, 200, {
        removed: host.runtime().clearRoutes(url.searchParams.get('service') ?? undefined),
      }),
  },
  {
    method: 'PUT',
    path: /^\/v1\/services\/([^/]+)\/split$/,
    async handle({ host, req, res, params: [name = ''] }) {
      const body = await readJson(req);
      const runtime = host.runtime();
      change(res, 200, () => {
        admitSplit(runtime, name, body);
        return runtime.state().find((service) => service.name === name)!.split;
      });
    },
  },
  {
    method: 'POST',
    path: '/v1/reload',
    async handle({ host, res }) {
      const result = await host.reload();
      json(res, result.refused ? 422 : 200, result);
    },
  },
];

function change(res: http.ServerResponse, status: number, apply: () => unknown): void {
  try {
    json(res, status, apply());
  } catch (error) {
    if (error instanceof RuntimeChangeError)
      return json(res, 400, { error: 'bad_request', message: error.message });
    throw error;
  }
}

/** `GET /v1/calls?service=payments&status=5xx`: one SSE event per matching call. */
function streamCalls(
  bus: MeshBus,
  url: URL,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  shown: (call: CallRecord) => CallRecord,
): void {
  const matches = callFilter(url);
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  res.write(': meshdev calls\n\n');
  const off = bus.on('call', (call) => {
    if (matches(call)) res.write(`event: call\ndata: ${JSON.stringify(shown(call))}\n\n`);
  });
  req.on('close', off);
}

/** A call whose query values are replaced: `/x?api_key=REDACTED&page=REDACTED`. */
export function redactQuery(call: CallRecord): CallRecord {
  const at = call.path.indexOf('?');
  if (at < 0) return call;
  const query = call.path
    .slice(at + 1)
    .split('&')
    .map((pair) => (pair.includes('=') ? `${pair.slice(0, pair.indexOf('='))}=REDACTED` : pair))
    .join('&');
  return { ...call, path: `${call.path.slice(0, at)}?${query}` };
}

/** `?service=payments&status=5xx` (or `status=503`, `violations=1`) as a predicate. */
function callFilter(url: URL): (call: CallRecord) => boolean {
  const service = url.searchParams.get('service');
  const status = url.searchParams.get('status');
  const violations = url.searchParams.get('violations') === '1';
  return (call) =>
    (!service || call.service === service) &&
    (!violations || (call.violations?.length ?? 0) > 0) &&
    (!status ||
      (/^\dxx$/.test(status)
        ? Math.floor(call.status / 100) === Number(status[0])
        : String(call.status) === status));
}

/** Answers JSON. */
export function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Largest request body the admin API reads, in characters: changes are small JSON. */
const MAX_BODY = 1_000_000;

/** A request the admin API refuses before any route logic: its body is not what it takes. */
export class AdminRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The request's JSON body (`{}` when empty); rejects with an `AdminRequestError` when it
 * is not JSON (400, with the parser's words) or over 1 MB (413).
 */
function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let text = '';
    let tooLarge = false;
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      if (text.length + chunk.length > MAX_BODY) tooLarge = true;
      else text += chunk;
    });
    req.on('end', () => {
      if (tooLarge) {
        return reject(
          new AdminRequestError(413, 'payload_too_large', `the body is over ${MAX_BODY} bytes`),
        );
      }
      try {
        resolve(text.trim() ? JSON.parse(text) : {});
      } catch (error) {
        reject(
          new AdminRequestError(
            400,
            'bad_request',
            `the body is not JSON: ${(error as Error).message}`,
          ),
        );
      }
    });
  });
}
