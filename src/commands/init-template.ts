/** The starter `mesh.config.yaml` written by `meshdev init`: small, commented, valid. */

/** Renders the starter config with the editor schema reference on its first line. */
export function starterConfig(schemaRef: string, name: string): string {
  return `# yaml-language-server: $schema=${schemaRef}
# meshdev config — reference: meshdev schema, docs/config.md
version: 1

mesh:
  name: ${name}
  mtls: strict          # strict | permissive | off
  admin: { port: 15000 } # control API and /metrics on 127.0.0.1
  ports: { from: 15100 } # outbound listeners (ORDERS_URL, ...) are allocated from here
  # seed: 42            # make fault and split decisions reproducible

gateway:
  port: 8080
  routes:
    - { path: /api/orders, service: orders, stripPrefix: true }

services:
  orders:
    # A real dev server: give its port, and optionally the command that starts it.
    #   port: 3001
    #   command: npm run dev
    # Until then, a simulated service answers in its place:
    sim:
      routes:
        - method: GET
          path: /
          body: { orders: [] }
          calls: [{ service: payments, method: GET, path: /health }]
    upstreams: [payments] # the app calls payments through $PAYMENTS_URL
    timeout: 3s
    retries: { attempts: 2, perTryTimeout: 1s, retryOn: [5xx, reset, connect-failure] }

  payments:
    versions:
      v1:
        sim:
          routes:
            - { method: GET, path: /health, body: { ok: true, version: v1 } }
      v2:
        sim:
          routes:
            - { method: GET, path: /health, body: { ok: true, version: v2 }, latency: { p50: 40ms, p99: 200ms } }
    routes:
      - match: { headers: { x-canary: "1" } }
        to: v2
      - split: { v1: 90, v2: 10 }
    faults:
      - abort: { status: 503, percent: 5 }
    circuitBreaker: { consecutiveErrors: 5, openFor: 30s }

load:
  - { name: browse, method: GET, path: /api/orders, rps: 5 }
`;
}
