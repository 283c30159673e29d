/**
 * The admin API on 127.0.0.1 (`mesh.admin.port`): state, live calls (server-sent
 * events), runtime faults and splits, reload, and Prometheus `/metrics`. Mutations need
 * the bearer token in `.meshdev/admin-token` (0600); any request whose Host is not
 * loopback or that carries a browser Origin is refused (DNS rebinding, CSRF).
 */
import { ensurePrivateDir, writePrivateFile } from '../lib/private-files.js';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { admitFault, admitSplit } from './admission.js';
import type { MeshBus } from '../telemetry/bus.js';
import type { CallRecord } from '../telemetry/call-record.js';
import type { MeshMetrics } from '../telemetry/metrics.js';
import { ListenError } from '../dataplane/listener.js';
import { RuntimeChangeError, type MeshRuntime } from '../dataplane/runtime.js';

/** What `.meshdev/state.json` records so CLI commands find the running mesh. */
export interface MeshStateFile {
  pid: number;
  adminPort: number;
  config: string;
  startedAt: string;
}

/** What the admin API reads from the running mesh. */
export interface AdminHost {
  runtime(): MeshRuntime;
  bus: MeshBus;
  metrics: MeshMetrics;
  /** Extra state for GET /v1/state (listeners, health, config status). */
  describe(): Record<string, unknown>;
  /** The last calls, newest first. */
  recentCalls(): CallRecord[];
  /** Re-reads the config file; resolves with what happened. */
  reload(): Promise<{ applied: boolean; message: string; refused?: boolean }>;
}

/** A started admin API. */
export interface AdminServer {
  port: number;
  token: string;
  close(): Promise<void>;
}

/** Starts the admin API and writes the token and state files under `stateDir`. */
export async function startAdmin(
  host: AdminHost,
  options: { port: number; stateDir: string; configFile: string },
): Promise<AdminServer> {
  ensurePrivateDir(options.stateDir);
  const token = randomBytes(32).toString('hex');
  const tokenFile = path.join(options.stateDir, 'admin-token');
  const stateFile = path.join(options.stateDir, 'state.json');
  const server = http.createServer((req, res) => {
    void handle(host, token, req, res).catch((error: unknown) => {
      if (!res.headersSent) json(res, 500, { error: 'internal', message: String(error) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new ListenError('admin API', options.port, error.code ?? error.message)),
    );
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  writePrivateFile(tokenFile, `${token}\n`);
  const state: MeshStateFile = {
    pid: process.pid,
    adminPort: port,
    config: options.configFile,
    startedAt: new Date().toISOString(),
  };
  writePrivateFile(stateFile, `${JSON.stringify(state, null, 2)}\n`);
  return {
    port,
    token,
    close: async () => {
      rmSync(stateFile, { force: true });
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function handle(
  host: AdminHost,
  token: string,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const hostname = (req.headers.host ?? '').replace(/:\d+$/, '');
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(hostname)) {
    return json(res, 403, {
      error: 'forbidden',
      message: `Host "${req.headers.host ?? ''}" is not loopback: the admin API answers 127.0.0.1 and localhost only`,
    });
  }
  if (req.headers.origin !== undefined) {
    return json(res, 403, {
      error: 'forbidden',
      message: 'requests from browsers (with an Origin header) are refused',
    });
  }
  const url = new URL(req.url ?? '/', 'http://admin');
  const method = req.method ?? 'GET';
  if (method !== 'GET' && !authorized(req, token)) {
    return json(res, 401, {
      error: 'unauthorized',
      message: 'send Authorization: Bearer <token from .meshdev/admin-token>',
    });
  }
  const runtime = host.runtime();

  if (method === 'GET' && url.pathname === '/metrics') {
    res.writeHead(200, { 'content-type': host.metrics.registry.contentType });
    return void res.end(await host.metrics.text());
  }
  if (method === 'GET' && url.pathname === '/v1/state') {
    return json(res, 200, { ...host.describe(), services: runtime.state() });
  }
  // Query strings may carry secrets (`?api_key=…`): without the token, their values are redacted.
  const shown = authorized(req, token) ? (call: CallRecord) => call : redactQuery;
  if (method === 'GET' && url.pathname === '/v1/calls')
    return streamCalls(host.bus, url, req, res, shown);
  if (method === 'GET' && url.pathname === '/v1/calls/recent') {
    const matches = callFilter(url);
    return json(res, 200, {
      calls: host.recentCalls().filter(matches).slice(0, 100).map(shown),
    });
  }
  if (method === 'POST' && url.pathname === '/v1/faults') {
    const body = await readJson(req);
    return change(res, 201, () => admitFault(runtime, body));
  }
  const faultMatch = /^\/v1\/faults\/([^/]+)$/.exec(url.pathname);
  if (method === 'DELETE' && faultMatch) {
    const id = decodeURIComponent(faultMatch[1]!);
    if (!runtime.removeFault(id))
      return json(res, 404, {
        error: 'not_found',
        message: `no runtime fault "${id}" (file faults change in the config)`,
      });
    return json(res, 200, { removed: id });
  }
  if (method === 'DELETE' && url.pathname === '/v1/faults') {
    return json(res, 200, {
      removed: runtime.clearFaults(url.searchParams.get('service') ?? undefined),
    });
  }
  const splitMatch = /^\/v1\/services\/([^/]+)\/split$/.exec(url.pathname);
  if (method === 'PUT' && splitMatch) {
    const body = await readJson(req);
    const name = decodeURIComponent(splitMatch[1]!);
    return change(res, 200, () => {
      admitSplit(runtime, name, body);
      return runtime.state().find((service) => service.name === name)!.split;
    });
  }
  if (method === 'POST' && url.pathname === '/v1/reload') {
    const result = await host.reload();
    return json(res, result.refused ? 422 : 200, result);
  }
  json(res, 404, { error: 'not_found', message: `no ${method} ${url.pathname}` });
}

function change(res: http.ServerResponse, status: number, apply: () => unknown): void {
  try {
    json(res, status, apply());
  } catch (error) {
    if (error instanceof RuntimeChangeError)
      return json(res, 400, { error: 'bad_request', message: error.message });
    throw error;
  }
}

function authorized(req: http.IncomingMessage, token: string): boolean {
  const given = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
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

/** `?service=payments&status=5xx` (or `status=503`) as a predicate. */
function callFilter(url: URL): (call: CallRecord) => boolean {
  const service = url.searchParams.get('service');
  const status = url.searchParams.get('status');
  return (call) =>
    (!service || call.service === service) &&
    (!status ||
      (/^\dxx$/.test(status)
        ? Math.floor(call.status / 100) === Number(status[0])
        : String(call.status) === status));
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      if (text.length < 1_000_000) text += chunk;
    });
    req.on('end', () => {
      try {
        resolve(text ? JSON.parse(text) : {});
      } catch {
        resolve(undefined);
      }
    });
  });
}
