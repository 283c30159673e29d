/**
 * Verifies JWTs with jose: the signature against a JWKS (a file, re-read when a token
 * names a `kid` it does not hold; a loopback URL, cached and refreshed on a `kid` miss by
 * jose; or meshdev's local issuer), the issuer, the audience, the allowed algorithms
 * (never `none`) and the expiry with the configured clock skew. A token that verified is
 * remembered (up to 1,000; found by the end of its signature, compared whole) and only
 * its expiry is checked again.
 */
import { readFileSync } from 'node:fs';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import type { JwtSettings } from '../config/model.js';
import type { LocalIssuer } from './local-issuer.js';

/** What verifying a token found. */
export type JwtResult = { ok: true; claims: JWTPayload } | { ok: false; reason: string };

/** Verified tokens kept, so a client repeating its token is not verified again each call. */
const VERIFIED_CACHE = 1_000;

/** Verifies tokens for one gateway config. */
export class JwtVerifier {
  private readonly external?: JWTVerifyGetKey;
  /**
   * Tokens that verified, with their claims, by the end of their signature (see
   * `cacheKeyOf`); each is compared whole and re-checked for expiry when used.
   */
  private readonly verified = new Map<string, { token: string; claims: JWTPayload }>();

  constructor(
    private readonly settings: JwtSettings,
    private readonly local: LocalIssuer | undefined,
    private readonly audience: string,
  ) {
    const jwks = settings.jwks;
    // A loopback JWKS (a dev identity provider): refetched on a kid miss at most once a second.
    if (jwks && /^https?:\/\//.test(jwks)) {
      this.external = createRemoteJWKSet(new URL(jwks), { cooldownDuration: 1_000 });
    } else if (jwks) this.external = fileKeySet(jwks);
  }

  /**
   * The claims of `token` when it verified before and has not expired since (with the
   * clock skew), else undefined: a repeated token is decided without a turn of the event
   * loop. The claims object is the same on every call while the token stays cached.
   */
  verifiedClaims(token: string): JWTPayload | undefined {
    const key = cacheKeyOf(token);
    const entry = this.verified.get(key);
    if (!entry || entry.token !== token) return undefined;
    const cached = entry.claims;
    const skewS = this.settings.clockSkewMs / 1000;
    if (cached.exp === undefined || cached.exp + skewS > Date.now() / 1000) return cached;
    this.verified.delete(key);
    return undefined;
  }

  /** Verifies `token`; a failure says why in words a developer can act on. */
  async verify(token: string): Promise<JwtResult> {
    const cached = this.verifiedClaims(token);
    if (cached) return { ok: true, claims: cached };
    const result = await this.verifyNow(token);
    if (result.ok) {
      if (this.verified.size >= VERIFIED_CACHE)
        this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(cacheKeyOf(token), { token, claims: result.claims });
    }
    return result;
  }

  private async verifyNow(token: string): Promise<JwtResult> {
    const local = this.settings.local && this.local;
    const useLocal = local && issuerOf(token) === local.issuer;
    const keys = useLocal ? createLocalJWKSet(local.jwks) : this.external;
    if (!keys) return { ok: false, reason: 'no keys trust this issuer' };
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: useLocal ? local.issuer : this.settings.issuer,
        audience: useLocal ? this.audience : this.settings.audience,
        algorithms: useLocal ? ['ES256'] : [...this.settings.algorithms],
        clockTolerance: Math.round(this.settings.clockSkewMs / 1000),
      });
      return { ok: true, claims: payload };
    } catch (error) {
      return { ok: false, reason: reasonOf(error) };
    }
  }
}

/** A JWKS file, re-read once when a token names a key it does not hold (a rotated file). */
function fileKeySet(file: string): JWTVerifyGetKey {
  let keys = createLocalJWKSet(JSON.parse(readFileSync(file, 'utf8')));
  return async (header, token) => {
    try {
      return await keys(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      keys = createLocalJWKSet(JSON.parse(readFileSync(file, 'utf8')));
      return keys(header, token);
    }
  };
}

/** Characters of a token's end its cache entry is found by. */
const CACHE_KEY_LENGTH = 32;

/**
 * Where a verified token is kept: the end of its signature, which differs from token to
 * token. A Map hashes every character of its key on each lookup (the token string is new
 * with every request), and a token is 300–1,000 characters; the whole token is compared
 * only with the one entry found. Two tokens sharing an end share a slot: the later one
 * replaces the earlier, and neither is ever taken for the other.
 */
function cacheKeyOf(token: string): string {
  return token.length > CACHE_KEY_LENGTH ? token.slice(-CACHE_KEY_LENGTH) : token;
}

function issuerOf(token: string): string | undefined {
  try {
    const payload = JSON.parse(
      Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as { iss?: unknown };
    return typeof payload.iss === 'string' ? payload.iss : undefined;
  } catch {
    return undefined;
  }
}

function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed)
    return `the token's ${error.claim} claim is not accepted (${error.reason})`;
  if (error instanceof errors.JOSEAlgNotAllowed)
    return 'the token is signed with an algorithm that is not allowed';
  if (error instanceof errors.JWKSNoMatchingKey)
    return 'no key of the JWKS matches the token (kid)';
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return 'the token signature is invalid';
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid)
    return 'the token is malformed';
  return error instanceof Error ? error.message : String(error);
}
