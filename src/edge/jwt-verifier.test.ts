import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { JwtVerifier } from './jwt-verifier.js';
import { loadLocalIssuer } from './local-issuer.js';

const settings = {
  local: true,
  algorithms: ['ES256'],
  clockSkewMs: 0,
  consumerClaim: 'sub',
} as const;

describe('JwtVerifier', () => {
  it('remembers a verified token, and never takes another token with the same end for it', async () => {
    const issuer = await loadLocalIssuer(mkdtempSync(path.join(tmpdir(), 'jwt-')), 'shop');
    const verifier = new JwtVerifier(settings, issuer, 'shop');
    const alice = await issuer.sign({ subject: 'alice', audience: 'shop', ttlSeconds: 600 });
    expect(verifier.verifiedClaims(alice)).toBeUndefined();
    expect(await verifier.verify(alice)).toMatchObject({ ok: true, claims: { sub: 'alice' } });
    expect(verifier.verifiedClaims(alice)).toMatchObject({ sub: 'alice' });

    // Same signature (so the same end), another payload: a forgery the cache must not admit.
    const [header, , signature] = alice.split('.');
    const payload = Buffer.from(
      JSON.stringify({ sub: 'mallory', iss: issuer.issuer, aud: 'shop' }),
    ).toString('base64url');
    const forged = `${header}.${payload}.${signature}`;
    expect(forged.slice(-32)).toBe(alice.slice(-32));
    expect(verifier.verifiedClaims(forged)).toBeUndefined();
    expect(await verifier.verify(forged)).toEqual({
      ok: false,
      reason: 'the token signature is invalid',
    });
    // The genuine token is still remembered.
    expect(verifier.verifiedClaims(alice)).toMatchObject({ sub: 'alice' });
  });
});
