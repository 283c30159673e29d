/** Header hygiene for every hop: hop-by-hop headers dropped, x-forwarded-* added. */
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
  'host',
]);

/** Headers of the mesh itself: never accepted from an app, set by meshdev only. */
export const INTERNAL_HEADER_PREFIX = 'x-meshdev-';

/** Request headers to forward: hop-by-hop and spoofable internal headers removed. */
export function forwardRequestHeaders(
  incoming: IncomingHttpHeaders,
  client: { address?: string; host?: string; proto: string },
): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const connectionTokens = listTokens(incoming.connection);
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || HOP_BY_HOP.has(name) || connectionTokens.has(name)) continue;
    if (name.startsWith(INTERNAL_HEADER_PREFIX)) continue;
    out[name] = value;
  }
  const previous = incoming['x-forwarded-for'];
  if (client.address)
    out['x-forwarded-for'] = previous ? `${String(previous)}, ${client.address}` : client.address;
  if (!incoming['x-forwarded-proto']) out['x-forwarded-proto'] = client.proto;
  if (!incoming['x-forwarded-host'] && client.host) out['x-forwarded-host'] = client.host;
  return out;
}

/** Response headers to send back: hop-by-hop removed. */
export function forwardResponseHeaders(
  incoming: Record<string, string | string[] | undefined>,
): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const connectionTokens = listTokens(incoming.connection);
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || HOP_BY_HOP.has(name) || connectionTokens.has(name)) continue;
    out[name] = value;
  }
  return out;
}

function listTokens(value: string | string[] | undefined): Set<string> {
  if (!value) return new Set();
  const text = Array.isArray(value) ? value.join(',') : value;
  return new Set(
    text
      .split(',')
      .map((token) => token.trim().toLowerCase())
      .filter(Boolean),
  );
}
