/** Header hygiene for every entry: hop-by-hop dropped, internal headers stripped, Host kept, x-forwarded-* set. */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** RFC 9110 hop-by-hop headers, plus ones undici refuses to forward. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
]);

/** Headers of the mesh itself: never accepted from an app, set by meshdev only. */
export const INTERNAL_HEADER_PREFIX = 'x-meshdev-';

/** Envoy's header for the caller's verified identity: set by the inbound listener only. */
export const XFCC_HEADER = 'x-forwarded-client-cert';

/**
 * Kong's consumer headers (so apps written against Kong work unchanged): set by the
 * gateway's authenticate stage only; a client's own copies are removed at the edge.
 */
export const CONSUMER_HEADERS = [
  'x-consumer-id',
  'x-consumer-username',
  'x-consumer-groups',
  'x-credential-identifier',
  'x-anonymous-consumer',
] as const;

/** Where a request came from, for the x-forwarded-* headers. */
export interface ClientInfo {
  address?: string;
  host?: string;
  proto: string;
  /**
   * True at the edge (the gateway): a client's own x-forwarded-* say nothing true, so
   * they are replaced, not extended.
   */
  edge: boolean;
  /** Keep `connection: upgrade` and `upgrade` (WebSocket handshakes). */
  upgrade?: boolean;
  /**
   * Forward the client's Host (Envoy's and nginx's usual choice); false drops it, so each
   * hop sends the address it connects to.
   */
  preserveHost: boolean;
}

/**
 * The one header policy of every entry, upgrades included: hop-by-hop headers dropped,
 * the mesh's own (`x-meshdev-*`) and the identity header (`x-forwarded-client-cert`)
 * removed whoever sent them, x-forwarded-* replaced at the edge and extended inside, and
 * a client's consumer headers (`x-consumer-*`) removed at the edge.
 */
export function forwardRequestHeaders(
  incoming: IncomingHttpHeaders,
  client: ClientInfo,
): OutgoingHttpHeaders {
  // Built by copying what stays, never by deleting from the copy: a deleted property turns
  // the object into a slow dictionary for everyone who reads it after (undici included).
  const out: OutgoingHttpHeaders = {};
  const connectionTokens = listTokens(incoming.connection);
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || HOP_BY_HOP.has(name) || connectionTokens.has(name)) continue;
    if (name.startsWith(INTERNAL_HEADER_PREFIX) || name === XFCC_HEADER) continue;
    if (client.edge && REPLACED_AT_EDGE.has(name)) continue;
    if (name === 'host') {
      if (client.host && client.preserveHost) out.host = client.host;
      continue;
    }
    out[name] = value;
  }
  if (client.upgrade && incoming.upgrade) {
    out.connection = 'upgrade';
    out.upgrade = incoming.upgrade;
  }
  const previous = out['x-forwarded-for'];
  if (client.address)
    out['x-forwarded-for'] = previous ? `${String(previous)}, ${client.address}` : client.address;
  out['x-forwarded-proto'] ??= client.proto;
  if (client.host) out['x-forwarded-host'] ??= client.host;
  return out;
}

/**
 * `headers` without `names`, as a new object: removing a credential by `delete` would turn
 * the headers into a slow dictionary for every reader after (undici included).
 */
export function withoutHeaders(
  headers: OutgoingHttpHeaders,
  names: readonly string[],
): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) if (!names.includes(name)) out[name] = headers[name];
  return out;
}

/** Headers a client's copy of which says nothing true at the edge: replaced, or removed. */
const REPLACED_AT_EDGE: ReadonlySet<string> = new Set([
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'forwarded',
  ...CONSUMER_HEADERS,
]);

/** Response headers to send back: hop-by-hop removed, `extra` (the mesh's own) added. */
export function forwardResponseHeaders(
  incoming: Record<string, string | string[] | undefined>,
  extra?: OutgoingHttpHeaders,
): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const connectionTokens = listTokens(incoming.connection);
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || HOP_BY_HOP.has(name) || connectionTokens.has(name)) continue;
    out[name] = value;
  }
  if (extra) for (const name in extra) out[name] = extra[name];
  return out;
}

const NO_TOKENS: ReadonlySet<string> = new Set();

/** The header names a `Connection` header lists (beyond the usual keep-alive/close). */
function listTokens(value: string | string[] | undefined): ReadonlySet<string> {
  // The common values name only hop-by-hop headers already dropped.
  if (!value || value === 'keep-alive' || value === 'close') return NO_TOKENS;
  const text = Array.isArray(value) ? value.join(',') : value;
  return new Set(
    text
      .split(',')
      .map((token) => token.trim().toLowerCase())
      .filter(Boolean),
  );
}
