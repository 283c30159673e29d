/**
 * Files under `.meshdev/` hold keys, tokens and addresses: they are written with their
 * mode set on every write, not only on creation, so a file that an older run (or a
 * `cp`) left 0644 is tightened the next time meshdev writes it.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';

/** Writes `data` to `file` and sets its mode (0600 unless told: certificates are 0644). */
export function writePrivateFile(file: string, data: string, mode = 0o600): void {
  writeFileSync(file, data, { mode });
  chmodSync(file, mode);
}

/** Creates `dir` (and parents) if needed and sets it to 0700. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}
