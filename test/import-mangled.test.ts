/**
 * Bad input never crashes an import: Istio resources and decK files with each field in
 * turn swapped for a value of the wrong type import with warnings — never an exception
 * from the importer (a failure names the field and the value).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { withPlaceholders } from '../src/import/draft.js';
import { importIstio } from '../src/import/istio.js';
import { importKong } from '../src/import/kong.js';
import { readSources } from '../src/import/source.js';
import { newConfigText } from '../src/import/write.js';

const ISTIO = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: shop }
spec:
  host: reviews
  trafficPolicy: { outlierDetection: { consecutive5xxErrors: 3, baseEjectionTime: 30s }, connectionPool: { http: { http2MaxRequests: 10 } } }
  subsets: [{ name: v1, labels: { version: v1 } }, { name: v2 }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  gateways: [mesh]
  http:
    - name: jason
      match: [{ headers: { end-user: { exact: jason } }, uri: { prefix: /r }, method: { exact: GET } }]
      route: [{ destination: { host: reviews, subset: v2 }, weight: 30 }, { destination: { host: reviews, subset: v1 }, weight: 70 }]
      timeout: 2s
      retries: { attempts: 2, perTryTimeout: 1s, retryOn: 5xx }
      fault: { delay: { fixedDelay: 1s, percentage: { value: 10 } }, abort: { httpStatus: 503 } }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: reviews }
spec:
  selector: { matchLabels: { app: reviews } }
  rules: [{ from: [{ source: { principals: [cluster.local/ns/shop/sa/productpage] } }], to: [{ operation: { methods: [GET], paths: [/r*] } }] }]
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default }
spec: { mtls: { mode: STRICT } }
`;

const KONG = `_format_version: "3.0"
services:
  - name: shop
    url: http://localhost:3000
    read_timeout: 5000
    routes: [{ name: r, paths: [/shop], strip_path: false, plugins: [{ name: acl, config: { allow: [staff] } }] }]
upstreams: [{ name: pay.upstream, targets: [{ target: "pay-v1:80", weight: 90 }, { target: "pay-v2:80", weight: 10 }] }]
plugins:
  - { name: key-auth, config: { key_names: [x-api-key] } }
  - { name: rate-limiting, consumer: alice, config: { minute: 10, day: 100 } }
consumers:
  - { username: alice, keyauth_credentials: [{ key: alice-key-123 }], acls: [{ group: staff }] }
`;

/** The wrong things a hand-edited file holds. */
const WRONG: unknown[] = [null, -1, 'text', true, [], {}, [1, 'a']];

/** Every place in `value` (a key's value or an item), as a path. */
function places(value: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  if (typeof value !== 'object' || value === null) return [];
  const entries = Array.isArray(value)
    ? value.map((item, index) => [index, item] as const)
    : Object.entries(value);
  return entries.flatMap(([key, inner]) => [[...at, key], ...places(inner, [...at, key])]);
}

/** A copy of `value` with what stands at `at` replaced by `wrong`. */
function replaced(value: unknown, at: ReadonlyArray<string | number>, wrong: unknown): unknown {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let parent = copy;
  for (const key of at.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  parent[at.at(-1)!] = structuredClone(wrong);
  return copy;
}

/** Every place of every document, with every wrong value: each imports, or fails to load. */
function survives(text: string, importer: typeof importIstio | typeof importKong): number {
  const documents = parseAllDocuments(text).map((doc) => doc.toJS() as unknown);
  const dir = mkdtempSync(path.join(tmpdir(), 'meshdev-mangled-'));
  const file = path.join(dir, 'mangled.yaml');
  let cases = 0;
  documents.forEach((document, d) => {
    for (const at of places(document))
      for (const wrong of WRONG) {
        const mangled = documents.map((doc, i) => (i === d ? replaced(doc, at, wrong) : doc));
        writeFileSync(file, mangled.map((doc) => stringify(doc)).join('---\n'));
        const run = () => {
          const { draft } = importer(readSources([file]), { name: 'x' });
          withPlaceholders(draft);
          return newConfigText(draft, ' mangled');
        };
        expect(run, `document ${d}, ${at.join('.')} = ${JSON.stringify(wrong)}`).not.toThrow();
        cases++;
      }
  });
  return cases;
}

describe('import of mangled files', () => {
  it('Istio: every field of every resource, set to each wrong type, imports with warnings', () => {
    expect(survives(ISTIO, importIstio)).toBeGreaterThan(500);
  });
  it('Kong: every field of a decK file, set to each wrong type, imports with warnings', () => {
    expect(survives(KONG, importKong)).toBeGreaterThan(300);
  });
});
