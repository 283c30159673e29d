import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../config/load.js';
import { createCa, issueLeaf } from './certificates.js';
import { Pki } from './pki.js';

const HOUR = 3_600_000;
const meshOf = (certTTL: string) =>
  loadConfigText(
    `version: 1\nmesh: { name: pki, certTTL: ${certTTL} }\nservices: { a: { port: 1 } }\n`,
    'pki.yaml',
    { env: {} },
  ).mesh;

describe('Pki.adopt: leaves on disk are reused across starts while still good', () => {
  it('takes up a leaf it issued, and issues anew when the lifetime, CA or age says so', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'meshdev-pki-'));
    const first = await Pki.open(meshOf('2h'), dir);
    const now = Date.now();
    await first.issue(['a'], now);
    const onDisk = readFileSync(path.join(dir, 'certs', 'a.crt'), 'utf8');

    const again = await Pki.open(meshOf('2h'), dir);
    expect(again.adopt(['a', 'b'], now + 1_000)).toEqual(['b']);
    expect(again.identity('a').cert).toBe(onDisk);
    // Halfway through its life it is due for rotation anyway.
    expect((await Pki.open(meshOf('2h'), dir)).adopt(['a'], now + HOUR + 1_000)).toEqual(['a']);
    // Another certTTL in the config: a leaf of the new lifetime.
    expect((await Pki.open(meshOf('4h'), dir)).adopt(['a'], now + 1_000)).toEqual(['a']);
    // A leaf some other CA signed is never taken up.
    const foreign = await issueLeaf(await createCa('other'), {
      commonName: 'a',
      uris: [again.identity('a').spiffeId],
      ttlMs: 2 * HOUR,
      now,
    });
    writeFileSync(path.join(dir, 'certs', 'a.crt'), foreign.cert);
    writeFileSync(path.join(dir, 'certs', 'a.key'), foreign.key);
    expect((await Pki.open(meshOf('2h'), dir)).adopt(['a'], now + 1_000)).toEqual(['a']);
  });
});
