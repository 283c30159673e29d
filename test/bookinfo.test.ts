/**
 * Istio's five traffic-management tasks on `examples/bookinfo` (simulated services only),
 * with the outcomes Istio documents for them. Changes go through the same admission as
 * `meshdev route|fault|split` (those commands are tested in control-plane.test.ts).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { admitFault, admitRoute, admitSplit } from '../src/controlplane/admission.js';
import { testScope } from './helpers/scope.js';

const scope = testScope();

/** The example on free ports, its decisions seeded. */
async function bookinfo() {
  const text = readFileSync('examples/bookinfo/mesh.config.yaml', 'utf8')
    .replace('ports: { from: 16100 }', 'ports: { from: 0 }\n  seed: 42')
    .replace('admin: { port: 16000 }', 'admin: { port: 0 }')
    .replace('port: 9080', 'port: 0');
  const m = await scope.mesh(text);
  const page = async (user?: string) => {
    const started = Date.now();
    const response = await fetch(`${m.gateway}/productpage`, {
      headers: user ? { 'end-user': user } : {},
    });
    const body = (await response.json()) as {
      reviews: {
        version?: string;
        stars?: string;
        rating?: { stars?: number; error?: string };
        error?: string;
      };
    };
    return { status: response.status, ms: Date.now() - started, reviews: body.reviews };
  };
  return { m, runtime: m.mesh.runtime, page };
}

/** Istio's request-routing task: jason's calls to reviews go to v2. */
function jasonOnV2(runtime: Parameters<typeof admitRoute>[0]): void {
  admitRoute(runtime, {
    service: 'reviews',
    match: { headers: { 'end-user': 'jason' } },
    to: 'v2',
  });
}

const REVIEWS_UNAVAILABLE = 'Sorry, product reviews are currently unavailable for this book.';

describe("Istio's Bookinfo tasks on simulated services", () => {
  it('request routing: jason sees reviews v2 (black stars), everyone else v1', async () => {
    const { runtime, page } = await bookinfo();
    expect((await page('jason')).reviews.version).toBe('v1');
    jasonOnV2(runtime);
    const jason = await page('jason');
    expect(jason.reviews).toMatchObject({ version: 'v2', stars: 'black', rating: { stars: 5 } });
    expect((await page('kim')).reviews.version).toBe('v1');
    expect((await page()).reviews.version).toBe('v1');
  });

  it("delay: 7 s on ratings for jason — his page loses reviews after productpage's 2 × 3 s", async () => {
    const { runtime, page } = await bookinfo();
    jasonOnV2(runtime);
    admitFault(runtime, {
      service: 'ratings',
      match: { headers: { 'end-user': 'jason' } },
      delay: { duration: '7s', percent: 100 },
    });
    const others = await page('kim');
    expect(others.reviews.version).toBe('v1');
    const jason = await page('jason');
    expect(jason.status).toBe(200);
    expect(jason.reviews.error).toBe(REVIEWS_UNAVAILABLE);
    // productpage's own client: a 3 s timeout and one retry, before the 7 s delay ends.
    expect(jason.ms).toBeGreaterThanOrEqual(5_900);
    expect(others.ms).toBeLessThan(jason.ms);
  }, 30_000);

  it('abort: ratings answers 500 to jason — his page says ratings unavailable, others unaffected', async () => {
    const { runtime, page } = await bookinfo();
    jasonOnV2(runtime);
    admitFault(runtime, {
      service: 'ratings',
      match: { headers: { 'end-user': 'jason' } },
      abort: { status: 500, percent: 100 },
    });
    const jason = await page('jason');
    expect(jason.reviews).toMatchObject({
      version: 'v2',
      rating: { error: 'Ratings service is currently unavailable' },
    });
    expect((await page('kim')).reviews.version).toBe('v1');
  });

  it('traffic shifting: reviews v1=50 v3=50 splits 400 pages within ±5 points', async () => {
    const { runtime, page } = await bookinfo();
    admitSplit(runtime, 'reviews', { weights: { v1: 50, v3: 50 } });
    const versions: string[] = [];
    for (let batch = 0; batch < 25; batch++) {
      const pages = await Promise.all(Array.from({ length: 16 }, () => page()));
      versions.push(...pages.map((p) => p.reviews.version!));
    }
    const v3 = versions.filter((version) => version === 'v3').length;
    expect(versions.filter((version) => version === 'v1').length + v3).toBe(400);
    expect(Math.abs((v3 / 400) * 100 - 50)).toBeLessThanOrEqual(5);
  }, 60_000);

  it('request timeouts: 0.5 s on the reviews route with ratings 2 s late — reviews unavailable after ≈ 1 s', async () => {
    const { runtime, page } = await bookinfo();
    admitRoute(runtime, { service: 'reviews', to: 'v2', timeout: '0.5s' });
    admitFault(runtime, { service: 'ratings', delay: { duration: '2s', percent: 100 } });
    const result = await page();
    expect(result.reviews.error).toBe(REVIEWS_UNAVAILABLE);
    // Two 0.5 s attempts (productpage retries the 504 once), not the 2 s delay.
    expect(result.ms).toBeGreaterThanOrEqual(950);
    expect(runtime.state().find((s) => s.name === 'reviews')!.routes).toMatchObject([
      { to: 'v2', timeoutMs: 500 },
    ]);
  }, 30_000);
});
