/**
 * The mesh's PKI: a local CA in `.meshdev/ca/` (directory 0700, key 0600), created on
 * first use and reused after, and one leaf per identity (every service, plus `gateway`)
 * in `.meshdev/certs/`, with the SPIFFE ID as URI SAN. Leaves are re-issued at half of
 * their lifetime; `generation` counts issues so connection pools know when to renew.
 */
import { ensurePrivateDir, writePrivateFile } from '../../lib/private-files.js';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { MeshSettings } from '../../config/model.js';
import { createCa, issueLeaf, reusableLeaf, type KeyPair } from './certificates.js';
import { spiffeId } from './identity.js';

/** One identity's certificate, as the data plane uses it. */
export interface Identity extends KeyPair {
  name: string;
  /** Epoch ms of issue: half-life rotation counts from here. */
  issuedAt: number;
  spiffeId: string;
  certPath: string;
  keyPath: string;
}

/** File locations of the PKI under a state directory (`.meshdev/`). */
export function pkiPaths(stateDir: string) {
  return {
    caDir: path.join(stateDir, 'ca'),
    caCert: path.join(stateDir, 'ca', 'ca.crt'),
    caKey: path.join(stateDir, 'ca', 'ca.key'),
    certsDir: path.join(stateDir, 'certs'),
    /** Touched by `meshdev certs rotate`; a running mesh reloads its leaves when it changes. */
    rotateMarker: path.join(stateDir, 'certs', 'rotated-at'),
  };
}

export class Pki {
  private readonly identities = new Map<string, Identity>();
  /** Bumped on every issue; pools made for an older generation are retired. */
  generation = 0;

  private constructor(
    readonly mesh: MeshSettings,
    readonly ca: KeyPair,
    readonly paths: ReturnType<typeof pkiPaths>,
  ) {}

  /** Loads the CA from `stateDir`, or creates it (0700 directory, 0600 key). */
  static async open(mesh: MeshSettings, stateDir: string): Promise<Pki> {
    const paths = pkiPaths(stateDir);
    ensurePrivateDir(paths.caDir);
    let ca: KeyPair;
    if (existsSync(paths.caCert) && existsSync(paths.caKey)) {
      ca = { cert: readFileSync(paths.caCert, 'utf8'), key: readFileSync(paths.caKey, 'utf8') };
    } else {
      ca = await createCa(mesh.name);
      writePrivateFile(paths.caKey, ca.key);
      writePrivateFile(paths.caCert, ca.cert, 0o644);
    }
    ensurePrivateDir(paths.certsDir);
    return new Pki(mesh, ca, paths);
  }

  /** Issues fresh leaves for `names` (written to disk) and bumps the generation. */
  async issue(names: readonly string[], now = Date.now()): Promise<void> {
    for (const name of names) {
      const id = spiffeId(this.mesh, name);
      const pair = await issueLeaf(this.ca, {
        commonName: name,
        uris: [id],
        ttlMs: this.mesh.certTtlMs,
        now,
      });
      const certPath = path.join(this.paths.certsDir, `${name}.crt`);
      const keyPath = path.join(this.paths.certsDir, `${name}.key`);
      writePrivateFile(keyPath, pair.key);
      writePrivateFile(certPath, pair.cert, 0o644);
      this.identities.set(name, { ...pair, name, issuedAt: now, spiffeId: id, certPath, keyPath });
    }
    this.generation++;
  }

  /**
   * Takes up the leaves of `names` already on disk that are still good (see
   * `reusableLeaf`); returns the names that need a new one.
   */
  adopt(names: readonly string[], now = Date.now()): string[] {
    const missing: string[] = [];
    for (const name of names) {
      const certPath = path.join(this.paths.certsDir, `${name}.crt`);
      const keyPath = path.join(this.paths.certsDir, `${name}.key`);
      const id = spiffeId(this.mesh, name);
      let pair: KeyPair | undefined;
      try {
        pair = { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
      } catch {
        pair = undefined;
      }
      const issuedAt =
        pair && reusableLeaf(this.ca, pair, { uri: id, ttlMs: this.mesh.certTtlMs }, now);
      if (pair && issuedAt !== undefined) {
        this.identities.set(name, { ...pair, name, issuedAt, spiffeId: id, certPath, keyPath });
      } else {
        missing.push(name);
      }
    }
    if (missing.length < names.length) this.generation++;
    return missing;
  }

  /** Re-reads every leaf from disk (after `meshdev certs rotate`) and bumps the generation. */
  reloadFromDisk(now = Date.now()): void {
    for (const identity of this.identities.values()) {
      identity.issuedAt = now;
      identity.cert = readFileSync(identity.certPath, 'utf8');
      identity.key = readFileSync(identity.keyPath, 'utf8');
    }
    this.generation++;
  }

  /** Whether a leaf was issued for `name`. */
  has(name: string): boolean {
    return this.identities.has(name);
  }

  /** The identity of `name`; throws when it was never issued (a bug). */
  identity(name: string): Identity {
    const identity = this.identities.get(name);
    if (!identity) throw new Error(`no certificate issued for "${name}"`);
    return identity;
  }

  /** Milliseconds until the earliest leaf reaches half of its lifetime. */
  msUntilRotation(now = Date.now()): number {
    let soonest = Infinity;
    for (const identity of this.identities.values()) {
      soonest = Math.min(soonest, identity.issuedAt + this.mesh.certTtlMs / 2 - now);
    }
    return Math.max(0, soonest);
  }

  /** mtime of the rotation marker, or 0. */
  rotationMarker(): number {
    try {
      return statSync(this.paths.rotateMarker).mtimeMs;
    } catch {
      return 0;
    }
  }
}
