/**
 * Remembers which bundled OpenAPI documents already passed the parser's validation, in
 * `.meshdev/cache/openapi-valid.json`, keyed by a hash of the document and the parser's
 * version. The parser compiles the OpenAPI meta-schema on every call (~0.25 s here), so
 * `validate`, `up`, `check` and hot reloads skip it for a spec that has not changed.
 * Only verdicts of valid documents are kept: a broken spec is always reported in full.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ensurePrivateDir, writePrivateFile } from '../lib/private-files.js';

const PARSER_VERSION = (
  createRequire(import.meta.url)('@readme/openapi-parser/package.json') as { version: string }
).version;

/** Most verdicts kept (the oldest go first). */
const MAX_ENTRIES = 200;

/** Hashes of documents known to be valid. */
export class SpecVerdicts {
  private readonly valid: string[];
  private dirty = false;

  /** `file`: where the verdicts live; undefined keeps them in memory only. */
  constructor(private readonly file?: string) {
    this.valid = file ? readList(file) : [];
  }

  /** The key of a bundled document. */
  static key(doc: unknown): string {
    return createHash('sha256').update(PARSER_VERSION).update(JSON.stringify(doc)).digest('hex');
  }

  /** True when `key` passed validation before. */
  has(key: string): boolean {
    return this.valid.includes(key);
  }

  /** Records that `key` passed. */
  add(key: string): void {
    if (this.has(key)) return;
    this.valid.push(key);
    if (this.valid.length > MAX_ENTRIES) this.valid.shift();
    this.dirty = true;
  }

  /** Writes new verdicts; a cache that cannot be written is only slower, never an error. */
  save(): void {
    if (!this.file || !this.dirty) return;
    try {
      // `.meshdev/` holds keys and tokens: anything it creates is private to the user.
      ensurePrivateDir(path.dirname(this.file));
      writePrivateFile(this.file, `${JSON.stringify({ valid: this.valid })}\n`);
      this.dirty = false;
    } catch {
      // Read-only checkout, full disk: validation just runs again next time.
    }
  }
}

function readList(file: string): string[] {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { valid?: unknown };
    return Array.isArray(parsed.valid) ? parsed.valid.filter((k) => typeof k === 'string') : [];
  } catch {
    return [];
  }
}
