/**
 * API keys of the consumers, looked up by a hash of the presented key and confirmed with
 * a constant-time comparison: neither the lookup nor the comparison tells an attacker how
 * much of a guess was right.
 */
import * as crypto from 'node:crypto';
import type { ConsumerConfig } from '../config/model.js';

/** Which consumer a key belongs to, and which of its keys (for `x-credential-identifier`). */
export interface KeyOwner {
  consumer: string;
  /** `alice-key-1`: names the credential without revealing it. */
  credential: string;
}

/** The API keys of every consumer. */
export class KeyRing {
  private readonly byDigest = new Map<string, { digest: Buffer; owner: KeyOwner }>();

  constructor(consumers: readonly ConsumerConfig[]) {
    for (const consumer of consumers) {
      consumer.keys.forEach((key, index) => {
        const digest = sha256(key);
        this.byDigest.set(digest.toString('hex'), {
          digest,
          owner: { consumer: consumer.name, credential: `${consumer.name}-key-${index + 1}` },
        });
      });
    }
  }

  /** The owner of `presented`, or undefined. */
  find(presented: string): KeyOwner | undefined {
    const digest = sha256(presented);
    const entry = this.byDigest.get(digest.toString('hex'));
    return entry && keysEqual(entry.digest, digest) ? entry.owner : undefined;
  }
}

/** Compares two digests in constant time (equal lengths by construction). */
export function keysEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

// The one-shot `crypto.hash` (Node ≥ 20.12) costs about half of createHash() per request.
const oneShot = (
  crypto as { hash?: (algorithm: string, data: string, encoding: 'buffer') => Buffer }
).hash;

function sha256(text: string): Buffer {
  return oneShot
    ? oneShot('sha256', text, 'buffer')
    : crypto.createHash('sha256').update(text).digest();
}
