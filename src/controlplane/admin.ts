/**
 * The admin API on 127.0.0.1 (`mesh.admin.port`): state, live calls (server-sent
 * events), runtime faults and splits, reload, and Prometheus `/metrics`. Mutations need
 * the bearer token in `.meshdev/admin-token` (0600); any request whose Host is not
 * loopback or that carries a browser Origin is refused (DNS rebinding, CSRF).
 */
import type { FrameData, FrameOptions } from './dashboard-frame.js';
import { ensurePrivateDir, writePrivateFile } from '../lib/private-files.js';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ADMIN_ROUTES, AdminRequestError, json } from './admin-routes.js';
import type { MeshBus } from '../telemetry/bus.js';
import type { ContractsSnapshot } from '../telemetry/contract-ledger.js';
import type { CallRecord } from '../telemetry/call-record.js';
import type { MeshMetrics } from '../telemetry/metrics.js';
import { ListenError } from '../dataplane/listener.js';
import type { MeshRuntime } from '../dataplane/runtime.js';

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
  /** Contract violations and coverage (GET /v1/contracts). */
  contracts(): ContractsSnapshot;
  /** The development issuer's public keys (GET /v1/jwks), when the config trusts it. */
  jwks(): { keys: unknown[] } | undefined;
  /** API usage by consumer (GET /v1/usage). */
  usage(sinceMs?: number): unknown[];
  /** One dashboard frame (GET /v1/dashboard, what `meshdev top` polls). */
  dashboard(options: FrameOptions): FrameData;
  /** The last output lines of a supervised instance (GET /v1/logs/<instance>). */
  logs(instance: string): string[];
  /** Clears quota counters, of one consumer or all; returns how many. */
  resetUsage(consumer?: string): number;
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
      if (error instanceof AdminRequestError && !res.headersSent)
        return json(res, error.status, { error: error.code, message: error.message });
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
  const withToken = authorized(req, token);
  if (method !== 'GET' && !withToken) {
    return json(res, 401, {
      error: 'unauthorized',
      message: 'send Authorization: Bearer <token from .meshdev/admin-token>',
    });
  }
  for (const route of ADMIN_ROUTES) {
    if (route.method !== method) continue;
    const params =
      typeof route.path === 'string'
        ? route.path === url.pathname
          ? []
          : undefined
        : route.path.exec(url.pathname)?.slice(1).map(decodeURIComponent);
    if (params) return route.handle({ host, req, res, url, params, withToken });
  }
  json(res, 404, { error: 'not_found', message: `no ${method} ${url.pathname}` });
}

function authorized(req: http.IncomingMessage, token: string): boolean {
  const given = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
