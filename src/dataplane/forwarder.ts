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

/** mTLS for one hop: the caller's certificate and the SPIFFE ID the server must have. */
export interface HopTls {
  ca: string;
  cert: string;
  key: string;
  /** Who presents this certificate (one pool per caller and target). */
  caller: string;
  expectedId: string;
  /** Certificate generation: a newer one retires the pools of older ones. */
  generation: number;
}

/** A server whose certificate does not carry the SPIFFE ID the hop was meant for. */
export class IdentityMismatchError extends Error {
  readonly code = 'ERR_MESH_IDENTITY';
}

/**
 * Node ignores URI SANs when checking a server: this checks the SPIFFE ID instead, so a
 * misdirected hop fails closed.
 */
export function checkSpiffeId(expected: string) {
  return (_host: string, cert: { subjectaltname?: string }): Error | undefined => {
    const uris = (cert.subjectaltname ?? '')
      .split(/,\s*/)
      .filter((entry) => entry.startsWith('URI:'));
    if (uris.includes(`URI:${expected}`)) return undefined;
    const got = uris.map((uri) => uri.slice(4)).join(', ') || 'no SPIFFE ID';
    return new IdentityMismatchError(`server identity mismatch: expected ${expected}, got ${got}`);
  };
}

/** Keeps one pool per origin (and per caller identity for mTLS) for the life of the mesh. */
export class Forwarder {
  private readonly pools = new Map<string, Pool>();
  private readonly tlsPools = new Map<string, { generation: number; pool: Pool }>();

  /** Sends the request to `127.0.0.1:port` (over mTLS when `tls` is given). */
  async forward(
    port: number,
    request: ForwardRequest,
    tls?: HopTls,
  ): Promise<Outcome | ForwardFailure> {
    const pool = tls ? this.tlsPool(port, tls) : this.pool(`http://127.0.0.1:${port}`);
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
      // `code` is a string for system errors but a number for DOMException aborts.
      const code = String((error as { code?: unknown }).code ?? '');
      if (
        error instanceof IdentityMismatchError ||
        code.startsWith('ERR_TLS') ||
        code.includes('CERT')
      ) {
        return { kind: 'failure', cause: 'connect-failure', detail: (error as Error).message };
      }
      const connect = ['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'EADDRNOTAVAIL', 'ENOTFOUND'];
      return {
        kind: 'failure',
        cause: connect.includes(code) ? 'connect-failure' : 'reset',
        detail: code || (error as Error).message,
      };
    }
  }

  /** Closes every pool (in-flight requests finish first). */
  close(): Promise<void> {
    return this.shutdown((pool) => pool.close());
  }

  /** Destroys every pool at once. */
  destroy(): Promise<void> {
    return this.shutdown((pool) => pool.destroy());
  }

  private async shutdown(end: (pool: Pool) => Promise<void>): Promise<void> {
    const pools = [
      ...this.pools.values(),
      ...[...this.tlsPools.values()].map((entry) => entry.pool),
    ];
    this.pools.clear();
    this.tlsPools.clear();
    await Promise.allSettled(pools.map(end));
  }

  /**
   * The mTLS pool of one caller to one port. After a certificate rotation the old pool is
   * closed gracefully (its calls in flight finish) and new calls use new certificates.
   */
  private tlsPool(port: number, tls: HopTls): Pool {
    const key = `${port}#${tls.caller}`;
    const current = this.tlsPools.get(key);
    if (current && current.generation === tls.generation) return current.pool;
    if (current) void current.pool.close().catch(() => {});
    const pool = new Pool(`https://127.0.0.1:${port}`, {
      keepAliveTimeout: 30_000,
      pipelining: 1,
      connect: {
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        servername: 'localhost',
        checkServerIdentity: checkSpiffeId(tls.expectedId),
      },
    });
    this.tlsPools.set(key, { generation: tls.generation, pool });
    return pool;
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
