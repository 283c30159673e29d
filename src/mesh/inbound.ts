/**
 * The inbound listener of one instance: identity → forward. It learns who calls (on
 * plaintext hops, from the header the caller's outbound listener sets) and forwards to
 * the instance's own port, streaming both ways. A dead instance answers 502 `UF` naming
 * its port. TLS identity and authorization slot in before `forward` (issue: mTLS).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { InstanceConfig } from '../config/model.js';
import { errorOutcome } from './error-outcome.js';
import type { Forwarder } from './forwarder.js';
import { forwardRequestHeaders, INTERNAL_HEADER_PREFIX } from './headers.js';
import { respond, resetSocket } from './respond.js';
import { CALLER_HEADER } from './stages/upstream.js';
import { proxyUpgrade } from './ws-proxy.js';

/** Where the instance really listens: its configured port, or a simulated server's. */
export type InstancePort = () => number | undefined;

/** Builds the request handler of an inbound listener. */
export function inboundHandler(
  instance: InstanceConfig,
  appPort: InstancePort,
  forwarder: Forwarder,
) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const caller = String(req.headers[CALLER_HEADER] ?? 'unknown');
    const port = appPort();
    const context = { service: instance.service, version: instance.version, caller };
    if (port === undefined) {
      return void respond(
        req,
        res,
        errorOutcome('upstream_unreachable', { ...context, detail: 'instance has no port' }),
      );
    }
    const headers = forwardRequestHeaders(req.headers, {
      address: req.socket.remoteAddress,
      host: req.headers.host,
      proto: 'http',
    });
    for (const name of Object.keys(headers))
      if (name.startsWith(INTERNAL_HEADER_PREFIX)) delete headers[name];
    const hasBody =
      req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0';
    const chunked = req.headers['transfer-encoding'] !== undefined;
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const result = await forwarder.forward(port, {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers,
      body: hasBody || chunked ? req : undefined,
      signal: abort.signal,
    });
    if (result.kind === 'failure') {
      if (result.cause === 'reset') return resetSocket(req);
      return void respond(
        req,
        res,
        errorOutcome('upstream_unreachable', { ...context, port, detail: result.detail }),
      );
    }
    if (result.kind === 'reset') return resetSocket(req);
    await respond(req, res, result);
  };
}

/** Builds the upgrade (WebSocket) handler of an inbound listener. */
export function inboundUpgrade(appPort: InstancePort) {
  return (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const port = appPort();
    if (port === undefined) return socket.destroy();
    delete req.headers[CALLER_HEADER];
    proxyUpgrade(req, socket, head, port);
  };
}
