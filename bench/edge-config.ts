/**
 * The bench's API edge: one gateway whose `/open` route takes no credentials, `/key` an
 * API key and `/jwt` a token from the development issuer, for one consumer whose plan's
 * rate limit is never reached (counted, never refused), and one consumer on no plan
 * (`PLANLESS_KEY`: its calls are authenticated, never counted). `extraRoutes` are more
 * route lines, written as the three are.
 */
export function edgeGatewayYaml(extraRoutes: readonly string[] = []): string {
  return `gateway:
  port: 0
  auth: { require: none, jwt: { local: true } }
  routes:
    - { path: /open, service: api, stripPrefix: true }
    - { path: /key, service: api, stripPrefix: true, auth: { require: apiKey } }
    - { path: /jwt, service: api, stripPrefix: true, auth: { require: jwt } }
${extraRoutes.map((route) => `    - ${route}\n`).join('')}consumers:
  bench: { plan: big, keys: ["${BENCH_KEY}"] }
  planless: { keys: ["${PLANLESS_KEY}"] }
plans:
  big: { rateLimit: { requests: 100000000, per: 1s } }
`;
}

/** The API key of the consumer `bench`, whose plan counts every call. */
export const BENCH_KEY = 'bench-key-0001';

/** The API key of the consumer `planless`, on no plan: no rate limit, no RateLimit fields. */
export const PLANLESS_KEY = 'planless-key-0001';
