/**
 * meshdev's development JWT issuer: one ES256 signing key in `.meshdev/jwt/` (0600),
 * its public half published as a JWKS on the admin port, and tokens signed for any
 * consumer — so "log in as alice" is `meshdev token alice`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { ensurePrivateDir, writePrivateFile } from '../lib/private-files.js';

/** The issuer (`iss`) of local tokens for a mesh. */
export function localIssuerName(mesh: string): string {
  return `urn:meshdev:${mesh}`;
}

/** A loaded local issuer. */
export interface LocalIssuer {
  issuer: string;
  /** The public keys, as served on the admin port. */
  jwks: { keys: JWK[] };
  /** Signs a token for `subject`. */
  sign(claims: {
    subject: string;
    audience: string;
    scopes?: string[];
    ttlSeconds: number;
  }): Promise<string>;
}

/** Loads the signing key from `stateDir/jwt/`, creating it on first use. */
export async function loadLocalIssuer(stateDir: string, mesh: string): Promise<LocalIssuer> {
  const dir = path.join(stateDir, 'jwt');
  const file = path.join(dir, 'signing-key.json');
  let stored: { kid: string; privateJwk: JWK; publicJwk: JWK };
  if (existsSync(file)) {
    stored = JSON.parse(readFileSync(file, 'utf8')) as typeof stored;
  } else {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = `meshdev-${Date.now().toString(36)}`;
    stored = {
      kid,
      privateJwk: await exportJWK(privateKey),
      publicJwk: { ...publicJwk, kid, alg: 'ES256', use: 'sig' },
    };
    ensurePrivateDir(dir);
    writePrivateFile(file, `${JSON.stringify(stored)}\n`);
  }
  const key = await importJWK(stored.privateJwk, 'ES256');
  const issuer = localIssuerName(mesh);
  return {
    issuer,
    jwks: { keys: [stored.publicJwk] },
    sign: ({ subject, audience, scopes, ttlSeconds }) =>
      new SignJWT(scopes?.length ? { scope: scopes.join(' ') } : {})
        .setProtectedHeader({ alg: 'ES256', kid: stored.kid, typ: 'JWT' })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject(subject)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(key),
  };
}
