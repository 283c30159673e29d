import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../src/config/load.js';
import { exportLinkerd } from '../src/export/linkerd.js';
import type { Manifest } from '../src/export/manifest.js';
import { runCli } from './helpers/cli.js';
import { acceptedBy, crdValidators } from './helpers/crd-schemas.js';
import { testScope } from './helpers/scope.js';

const scope = testScope();
const validators = crdValidators('linkerd');
const accepted = (manifests: readonly Manifest[]) => acceptedBy(validators, manifests);

const CONFIG = `version: 1
mesh: { name: ld, namespace: shop, mtls: permissive }
services:
  productpage: { port: 9080, upstreams: [reviews] }
  reviews:
    versions: { v1: { port: 9081 }, v2: { port: 9082 } }
    timeout: 10s
    retries: { attempts: 2, perTryTimeout: 1s, retryOn: [5xx, 503] }
    allow: [productpage]
    routes:
      - match: { headers: { end-user: jason }, path: /reviews/:id, method: [GET, HEAD] }
        to: v2
        timeout: 500ms
      - { match: { path: /api/* }, split: { v1: 80, v2: 20 } }
      - { to: v1 }
    faults: [{ delay: 2s }]
`;

describe('meshdev export --to linkerd', () => {
  it('writes policy resources Linkerd accepts: routes, backends, timeouts, retries, authorization', () => {
    const dir = scope.project(CONFIG);
    const { manifests, warnings } = exportLinkerd(
      loadConfigFile(path.join(dir, 'mesh.config.yaml')),
    );
    const byName = accepted(manifests);
    const route = byName.get('HTTPRoute/reviews')!;
    expect(route.metadata.annotations).toEqual({
      'retry.linkerd.io/http': '5xx,503',
      'retry.linkerd.io/limit': '2',
      'retry.linkerd.io/timeout': '1s',
    });
    expect(route.spec).toEqual({
      parentRefs: [{ group: 'core', kind: 'Service', name: 'reviews', port: 80 }],
      rules: [
        {
          matches: ['GET', 'HEAD'].map((method) => ({
            path: { type: 'RegularExpression', value: '^/reviews/[^/]+$' },
            headers: [{ type: 'Exact', name: 'end-user', value: 'jason' }],
            method,
          })),
          backendRefs: [{ name: 'reviews-v2', port: 80 }],
          timeouts: { request: '500ms', backendRequest: '1s' },
        },
        {
          matches: [{ path: { type: 'PathPrefix', value: '/api' } }],
          backendRefs: [
            { name: 'reviews-v1', port: 80, weight: 80 },
            { name: 'reviews-v2', port: 80, weight: 20 },
          ],
          timeouts: { request: '10s', backendRequest: '1s' },
        },
        {
          backendRefs: [{ name: 'reviews-v1', port: 80 }],
          timeouts: { request: '10s', backendRequest: '1s' },
        },
      ],
    });
    expect(byName.get('MeshTLSAuthentication/reviews-callers')!.spec).toEqual({
      identities: ['productpage.shop.serviceaccount.identity.linkerd.cluster.local'],
    });
    expect(byName.get('AuthorizationPolicy/reviews')!.spec).toMatchObject({
      targetRef: { kind: 'Server', name: 'reviews' },
      requiredAuthenticationRefs: [{ kind: 'MeshTLSAuthentication', name: 'reviews-callers' }],
    });
    // productpage has no callers: a Server that denies, and nothing authorizing it.
    expect(byName.get('Server/productpage')!.spec).toMatchObject({ accessPolicy: 'deny' });
    expect(byName.has('AuthorizationPolicy/productpage')).toBe(false);
    expect(
      warnings.map(
        (w) =>
          `${w.at.replace(/^.*mesh\.config\.yaml/, 'mesh.config.yaml')} ${w.message.split(' —')[0]!.split(':')[0]}`,
      ),
    ).toEqual(['mesh.config.yaml:2:36 mtls', 'mesh.config.yaml:16:14 fault injection']);
  });

  it('exports the demo and Bookinfo as resources Linkerd accepts, on stdout with --to linkerd', async () => {
    for (const file of ['mesh.config.yaml', 'examples/bookinfo/mesh.config.yaml'])
      accepted(exportLinkerd(loadConfigFile(file)).manifests);
    const dir = scope.project(CONFIG);
    const printed = await runCli(['export', '--to', 'linkerd', '--strict'], { cwd: dir });
    expect(printed.code).toBe(1);
    accepted(parseAllDocuments(printed.stdout).map((doc) => doc.toJS() as Manifest));
    expect(printed.stderr).toContain('fault injection: Linkerd has none; skipped');
  });
});
