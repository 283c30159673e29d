/**
 * Identify stage (inbound): who calls is only what TLS proved — the SPIFFE ID in a client
 * certificate of the mesh CA. A plaintext call (permissive, off) or TLS without a client
 * certificate has no identity: it is an unauthenticated caller, whatever its headers
 * claim. A verified caller is told to the app in Envoy's `x-forwarded-client-cert`.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { MeshSettings } from '../../config/model.js';
import type { EntryContext } from '../entry-context.js';
import { XFCC_HEADER } from '../headers.js';
import type { Stage } from '../pipeline.js';
import { serviceOf, spiffeId, spiffeUris } from '../pki/identity.js';

/** Who is calling, as the inbound listener established it. */
export interface Caller {
  /** Service name (or `gateway`); undefined when unauthenticated. */
  principal: string | undefined;
  spiffeId?: string;
  /** True when proven by a client certificate of the mesh CA. */
  verified: boolean;
  certHash?: string;
}

/** What `identify` needs from its listener. */
export interface IdentifySettings {
  mesh: MeshSettings;
  /** The service this inbound listener fronts. */
  service: string;
  /** Told about plaintext calls accepted in permissive mode. */
  warn(message: string): void;
}

const UNAUTHENTICATED: Caller = { principal: undefined, verified: false };

// A connection's peer certificate never changes: parse it once per connection, not per
// request (getPeerCertificate builds a fresh object and the hash is a sha256 each time).
const verifiedCallers = new WeakMap<TLSSocket, Caller>();

/** The caller a request's connection proves, or an unauthenticated one. */
export function identify(mesh: MeshSettings, req: IncomingMessage): Caller {
  const socket = req.socket as TLSSocket;
  if (!socket.encrypted || !socket.authorized) return UNAUTHENTICATED;
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

/** Builds the identify stage of one inbound listener. */
export function identifyStage(settings: IdentifySettings): Stage<EntryContext> {
  // A connection's caller is fixed, and so is what this listener tells the app of it.
  const xfccOf = new WeakMap<Caller, string>();
  return {
    name: 'identify',
    handle(ctx, next) {
      const caller = identify(settings.mesh, ctx.req);
      ctx.identity = caller;
      ctx.caller = caller.principal;
      if (caller.verified && caller.spiffeId) {
        let xfcc = xfccOf.get(caller);
        if (xfcc === undefined) {
          xfcc = `By=${spiffeId(settings.mesh, settings.service)};Hash=${caller.certHash ?? ''};URI=${caller.spiffeId}`;
          xfccOf.set(caller, xfcc);
        }
        ctx.headers[XFCC_HEADER] = xfcc;
      } else if (settings.mesh.mtls === 'permissive') {
        settings.warn(
          `plaintext call to ${settings.service} accepted (mtls: permissive): the caller is unauthenticated`,
        );
      }
      return next();
    },
  };
}
