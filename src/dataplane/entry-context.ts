/**
 * What every entry point (gateway, outbound, inbound, upgrade) knows about one request.
 * `normalize` fills the path and headers; the entry's other stages add who calls and
 * where it goes; the hop stages record what they did for the call record.
 */
import type { CancelSignal } from '../lib/cancel.js';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { ResponseFlag } from '../telemetry/call-record.js';
import type { GatewayRoute } from '../config/model.js';
import type { Consumer } from '../edge/api-edge.js';
import type { Caller } from './stages/identify.js';
import type { HopContext } from './pipeline.js';

/** Where a request goes on an outbound hop. */
export interface HopTarget {
  service: string;
  /** A version fixed by a gateway route, bypassing splits. */
  pinnedVersion?: string;
  /** Route template known before the service's own routes (the gateway prefix). */
  routeTemplate?: string;
}

export interface EntryContext {
  readonly req: IncomingMessage;
  /** The listener's label, for errors and warnings: `gateway`, `inbound payments@v2`. */
  readonly listener: string;
  readonly proto: 'http' | 'https';
  /** True on the gateway: the client is outside the mesh. */
  readonly edge: boolean;
  /** Forward the Host that arrived (`gateway.preserveHost`; always on inner hops). */
  readonly preserveHost?: boolean;
  readonly startedAt: number;
  /** Set by `normalize`: origin-form path with query, its pathname, forwarded headers. */
  method: string;
  path: string;
  pathname: string;
  headers: OutgoingHttpHeaders;
  readonly flags: Set<ResponseFlag>;
  /** Aborted when the caller goes away. */
  readonly clientSignal: CancelSignal;
  /** The caller's principal: the listener's caller (outbound, gateway) or `identify`'s. */
  caller?: string;
  /** What TLS proved about the caller (inbound only). */
  identity?: Caller;
  /** Set by the outbound listener, or by `gateway-route`. */
  target?: HopTarget;
  /** The gateway route that matched (its `auth` applies). */
  route?: GatewayRoute;
  /** The API consumer `authenticate` recognized. */
  consumer?: Consumer;
  /** The hop that ran (outbound and upgrade hops), for the call record. */
  hop?: HopContext;
  trace?: { traceId: string; requestId: string };
  /**
   * Headers the entry adds to the answer its caller gets, whatever stage made it (the
   * limit stage's RateLimit fields): added as the head is written.
   */
  answerHeaders?: Record<string, string>;
  /** Request body bytes read from the caller. */
  bodyBytes(): number;
  /** WebSocket handshakes: the caller's socket and the bytes read past the head. */
  upgrade?: { socket: Socket; head: Buffer };
}

/** What an entry knows before its first stage runs. */
export interface EntryStart {
  listener: string;
  proto: 'http' | 'https';
  edge: boolean;
  preserveHost?: boolean;
  caller?: string;
  target?: HopTarget;
}

/** A fresh context for `req`; path and headers are the raw ones until `normalize` runs. */
export function createEntryContext(
  req: IncomingMessage,
  start: EntryStart,
  startedAt: number,
  clientSignal: CancelSignal,
  upgrade?: EntryContext['upgrade'],
): EntryContext {
  const path = req.url ?? '/';
  const query = path.indexOf('?');
  // Fields listed one by one (not `...start`): every context gets the same shape, which
  // keeps the stages' property reads monomorphic — a spread showed in hop profiles.
  return {
    req,
    listener: start.listener,
    proto: start.proto,
    edge: start.edge,
    preserveHost: start.preserveHost,
    caller: start.caller,
    target: start.target,
    startedAt,
    method: req.method ?? 'GET',
    path,
    pathname: query < 0 ? path : path.slice(0, query),
    headers: {},
    flags: new Set(),
    clientSignal,
    answerHeaders: undefined,
    bodyBytes: () => 0,
    upgrade,
  };
}
