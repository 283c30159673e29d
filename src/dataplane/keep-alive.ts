/**
 * How long each side of the mesh keeps an idle keep-alive connection. The rule between two
 * ends: the side that sends requests lets a connection go first, so it never writes a
 * request on a connection the other side is closing.
 */

/**
 * How long a pool to an app keeps an idle connection at most, ms. A server that advertises
 * a shorter `Keep-Alive: timeout` (an app's Node server: 5 s) is believed, less undici's
 * safety margin; one that advertises nothing (nginx's 75 s, Go's, uvicorn's 5 s) may close
 * an idle connection whenever it likes, so the pool does not keep one long.
 */
export const APP_IDLE_MS = 30_000;

/**
 * How long an mTLS pool between two of the mesh's own listeners keeps an idle connection,
 * ms: an hour, Envoy's default for upstream connections. Both ends are ours, and the
 * inbound listener keeps one longer (`INBOUND_KEEP_ALIVE_MS`), so the caller side closes
 * first. A connection kept is a TLS handshake saved on both sides of the hop: after 30 s
 * idle, a burst of 32 calls to a pair paid ~100 ms more to open its connections again.
 */
export const HOP_IDLE_MS = 3_600_000;

/**
 * How long an inbound listener keeps an idle connection, ms. Its callers are the mesh's
 * own hop pools, which let one go after an hour idle (`HOP_IDLE_MS`, Envoy's default):
 * the listener waits a minute longer, so the caller closes first and never reuses a
 * connection the server is closing, and a connection between two listeners outlives a
 * pause in traffic instead of costing a TLS handshake on both sides when calls resume.
 */
export const INBOUND_KEEP_ALIVE_MS = HOP_IDLE_MS + 60_000;

/**
 * How long a client-facing listener (gateway, outbound) keeps an idle connection, ms:
 * Node's default, which apps' HTTP clients and browsers expect from a dev server (they are
 * told it in `Keep-Alive: timeout=5`).
 */
export const CLIENT_KEEP_ALIVE_MS = 5_000;
