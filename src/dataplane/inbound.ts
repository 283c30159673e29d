/**
 * The inbound listener of one instance: identity → authorization → forward.
 * - identity: over mTLS, the caller's SPIFFE ID from its client certificate; over
 *   plaintext (permissive, off), the name the caller's outbound hop claims — unverified,
 *   and flagged;
 * - authorization: the service's `allow` rules (403 `UAEX` naming the principal and the
 *   config line to change);
 * - forward: to the instance's own port, streaming both ways, with Envoy's
 *   `x-forwarded-client-cert` so the app can see who called. A dead instance answers
 *   502 `UF` naming its port.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { InstanceConfig, MeshSettings, ServiceConfig } from '../config/model.js';
import { authorize } from './authorize.js';
import { errorOutcome } from './error-outcome.js';
import type { Forwarder } from './forwarder.js';
import { forwardRequestHeaders } from './headers.js';
import { serviceOf, spiffeId, spiffeUris } from './pki/identity.js';
import { respond, resetSocket } from './respond.js';
import { CALLER_HEADER } from './stages/upstream.js';
import { proxyUpgrade } from './ws-proxy.js';

/** Where the instance really listens: its configured port, or a simulated server's. */
export type InstancePort = () => number | undefined;

/** Who is calling, as the inbound listener established it. */
export interface Caller {
  /** Service name (or `gateway`); undefined when unknown. */
  principal: string | undefined;
  spiffeId?: string;
  /** True when proven by a client certificate of the mesh CA. */
  verified: boolean;
  certHash?: string;
}

/** Everything an inbound listener needs. */
export interface InboundContext {
  mesh: MeshSettings;
  /** The service's config in force now (hot reload changes `allow` in place). */
  service: () => ServiceConfig;
  instance: InstanceConfig;
  appPort: InstancePort;
  forwarder: Forwarder;
  /** Told about plaintext calls accepted in permissive mode. */
  warn(message: string): void;
}

// A connection's peer certificate never changes: parse it once per connection, not per
// request (getPeerCertificate builds a fresh object and the hash is a sha256 each time).
const verifiedCallers = new WeakMap<TLSSocket, Caller>();

/** Establishes the caller of a request. */
export function identify(mesh: MeshSettings, req: IncomingMessage): Caller {
  const socket = req.socket as TLSSocket;
  if (socket.encrypted && socket.authorized) {
    let caller = verifiedCallers.get(socket);
    if (!caller) {
      const peer = socket.getPeerCertificate();
      const id = spiffeUris(peer.subjectaltname)[0];
      caller = {
        principal: id ? serviceOf(mesh, id) : undefined,
        spiffeId: id,
        verified: true,
        certHash: peer.raw ? createHash('sha256').update(peer.raw).digest('hex') : undefined,
      };
      verifiedCallers.set(socket, caller);
    }
    return caller;
  }
  const claimed = req.headers[CALLER_HEADER];
  return {
    principal: typeof claimed === 'string' ? (claimed === 'load' ? 'gateway' : claimed) : undefined,
    verified: false,
  };
}

/** Builds the request handler of an inbound listener. */
export function inboundHandler(context: InboundContext) {
  const { mesh, instance, appPort, forwarder } = context;
  return async (req: IncomingMessage, res: ServerResponse) => {
    const caller = identify(mesh, req);
    const service = context.service();
    const errorContext = {
      service: instance.service,
      version: instance.version,
      caller: caller.principal,
    };
    if (!caller.verified && mesh.mtls === 'permissive') {
      context.warn(
        `plaintext call to ${service.name} from ${caller.principal ?? 'an unknown caller'} accepted (mtls: permissive)`,
      );
    }
    const pathname = (req.url ?? '/').split('?')[0]!;
    const decision = authorize(service, caller.principal, req.method ?? 'GET', pathname);
    if (!decision.allowed) {
      req.resume();
      return void respond(
        req,
        res,
        errorOutcome('unauthorized', { ...errorContext, detail: decision.reason }),
      );
    }
    const port = appPort();
    if (port === undefined) {
      req.resume();
      return void respond(
        req,
        res,
        errorOutcome('upstream_unreachable', { ...errorContext, detail: 'instance has no port' }),
      );
    }
    const headers = forwardRequestHeaders(req.headers, {
      address: req.socket.remoteAddress,
      host: req.headers.host,
      proto: (req.socket as TLSSocket).encrypted ? 'https' : 'http',
    });
    if (caller.verified && caller.spiffeId) {
      headers['x-forwarded-client-cert'] =
        `By=${spiffeId(mesh, service.name)};Hash=${caller.certHash ?? ''};URI=${caller.spiffeId}`;
    } else {
      delete headers['x-forwarded-client-cert'];
    }
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
        errorOutcome('upstream_unreachable', { ...errorContext, port, detail: result.detail }),
      );
    }
    if (result.kind === 'reset') return resetSocket(req);
    await respond(req, res, result);
  };
}

/** Builds the upgrade (WebSocket) handler of an inbound listener. */
export function inboundUpgrade(context: InboundContext) {
  return (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const caller = identify(context.mesh, req);
    const pathname = (req.url ?? '/').split('?')[0]!;
    if (!authorize(context.service(), caller.principal, req.method ?? 'GET', pathname).allowed)
      return socket.destroy();
    const port = context.appPort();
    if (port === undefined) return socket.destroy();
    delete req.headers[CALLER_HEADER];
    proxyUpgrade(req, socket, head, port);
  };
}
