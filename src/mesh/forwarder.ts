/**
 * Forwards plain HTTP requests with undici: one keep-alive `Pool` per upstream origin,
 * no undici timeouts (the pipeline owns timeouts), errors mapped to failure causes.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { Pool } from 'undici';
import type { Outcome } from './pipeline.js';

/** One request to forward. */
export interface ForwardRequest {
  method: string;
  path: string;
  headers: OutgoingHttpHeaders;
  body: Buffer | Readable | undefined;
  signal: AbortSignal;
}

/** A failed forward that never produced a response. */
export interface ForwardFailure {
  kind: 'failure';
  cause: 'connect-failure' | 'reset';
  detail: string;
}

/** Keeps one pool per origin for the life of the mesh. */
export class Forwarder {
  private readonly pools = new Map<string, Pool>();

  /** Sends the request to `127.0.0.1:port`; resolves with the upstream's answer. */
  async forward(port: number, request: ForwardRequest): Promise<Outcome | ForwardFailure> {
    const pool = this.pool(`http://127.0.0.1:${port}`);
    try {
      const response = await pool.request({
        method: request.method as never,
        path: request.path,
        headers: plainHeaders(request.headers),
        body: request.body,
        signal: request.signal,
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      return {
        kind: 'response',
        status: response.statusCode,
        headers: response.headers,
        body: response.body,
      };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      const connect = ['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'EADDRNOTAVAIL', 'ENOTFOUND'];
      return {
        kind: 'failure',
        cause: connect.includes(code) ? 'connect-failure' : 'reset',
        detail: code || (error as Error).message,
      };
    }
  }

  /** Closes every pool (in-flight requests finish first). */
  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(pools.map((pool) => pool.close()));
  }

  /** Destroys every pool at once. */
  async destroy(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(pools.map((pool) => pool.destroy()));
  }

  private pool(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, { keepAliveTimeout: 30_000, pipelining: 1 });
      this.pools.set(origin, pool);
    }
    return pool;
  }
}

function plainHeaders(headers: OutgoingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value : String(value);
  }
  return out;
}
