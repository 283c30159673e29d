/**
 * Certificates of the local CA, made with selfsigned: EC P-256 keys, sha256 signatures
 * (selfsigned defaults to sha1, which Node rejects, so it is always passed).
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';

/** A PEM certificate with its private key. */
export interface KeyPair {
  cert: string;
  key: string;
}

/** What `meshdev certs` shows of a certificate. */
export interface CertInfo {
  serial: string;
  notBefore: Date;
  notAfter: Date;
  subjectAltName: string;
}

const CA_LIFETIME_MS = 365 * 24 * 3_600_000;
/** Leaves start a minute in the past, so small clock differences never reject them. */
const BACKDATE_MS = 60_000;

/** A new CA able to sign leaves (and nothing below them). */
export async function createCa(name: string, now = Date.now()): Promise<KeyPair> {
  const { generate } = await import('selfsigned');
  const pems = await generate(
    [
      { name: 'commonName', value: `meshdev local CA (${name})` },
      { name: 'organizationName', value: 'meshdev' },
    ],
    {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notBeforeDate: new Date(now - BACKDATE_MS),
      notAfterDate: new Date(now + CA_LIFETIME_MS),
      extensions: [
        { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
        {
          name: 'keyUsage',
          keyCertSign: true,
          cRLSign: true,
          digitalSignature: true,
          critical: true,
        },
      ],
    },
  );
  return { cert: pem(pems.cert), key: pem(pems.private) };
}

/** Options of one leaf certificate. */
export interface LeafOptions {
  commonName: string;
  /** URI SANs, e.g. the SPIFFE ID. */
  uris: string[];
  ttlMs: number;
  now?: number;
}

/** A leaf for client and server authentication, valid for localhost and 127.0.0.1. */
export async function issueLeaf(ca: KeyPair, options: LeafOptions): Promise<KeyPair> {
  const now = options.now ?? Date.now();
  // selfsigned and its ASN.1 stack load only when a certificate is made (~0.2 s here).
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: options.commonName }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now - BACKDATE_MS),
    notAfterDate: new Date(now + options.ttlMs),
    ca: { cert: ca.cert, key: ca.key },
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyAgreement: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          ...options.uris.map((value) => ({ type: 6 as const, value })),
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { cert: pem(pems.cert), key: pem(pems.private) };
}

/** Serial, validity and SANs of a PEM certificate. */
/**
 * When `leaf` (read back from disk) is one this mesh would issue now — signed by `ca`,
 * carrying `uri`, with the configured lifetime, its key matching, not yet halfway
 * through its life — the time it was issued; else undefined (issue a new one). Reusing
 * it spares `meshdev up` a key generation per identity on every start.
 */
export function reusableLeaf(
  ca: KeyPair,
  leaf: KeyPair,
  want: { uri: string; ttlMs: number },
  now = Date.now(),
): number | undefined {
  try {
    const x509 = new X509Certificate(leaf.cert);
    if (!x509.verify(new X509Certificate(ca.cert).publicKey)) return undefined;
    if (!x509.checkPrivateKey(createPrivateKey(leaf.key))) return undefined;
    if (!(x509.subjectAltName ?? '').split(/,\s*/).includes(`URI:${want.uri}`)) return undefined;
    const issuedAt = Date.parse(x509.validFrom) + BACKDATE_MS;
    const lifetime = Date.parse(x509.validTo) - issuedAt;
    // Certificate times have whole seconds: allow for the rounding.
    if (Math.abs(lifetime - want.ttlMs) > 2_000) return undefined;
    if (now >= issuedAt + want.ttlMs / 2 || now < issuedAt - BACKDATE_MS) return undefined;
    return issuedAt;
  } catch {
    return undefined; // unreadable: issue a new one
  }
}

export function describeCert(pem: string): CertInfo {
  const x509 = new X509Certificate(pem);
  return {
    serial: x509.serialNumber,
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
    subjectAltName: x509.subjectAltName ?? '',
  };
}

/** PEM text with `\n` line ends and one final newline, so files and output compare equal. */
function pem(text: string): string {
  return `${text.replace(/\r\n/g, '\n').trimEnd()}\n`;
}
