/**
 * Remembers OpenAPI documents that loaded, validated and compiled before, in
 * `.meshdev/cache/openapi/`: one file per spec entry file with the bundled document and
 * the files it was read from, keyed by a hash of those files' contents and of the
 * versions of meshdev, the parser and ajv. A spec none of whose files changed is then
 * read back as JSON: `validate`, `up`, `check` and hot reloads neither load the parser
 * (which also compiles the OpenAPI meta-schema on every call, ~0.25 s here) nor compile
 * its validators before they are needed. A broken spec is never cached: it is always
 * reported in full.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ensurePrivateDir, writePrivateFile } from '../lib/private-files.js';
import type { JsonObject, LoadedSpec } from './spec-load.js';
import { MESHDEV_VERSION } from '../lib/meshdev-version.js';

/** What decides how a document loads and compiles, besides its own files. */
const TOOL_VERSIONS = (() => {
  const require = createRequire(import.meta.url);
  const version = (name: string) =>
    (require(`${name}/package.json`) as { version: string }).version;
  // Bump FORMAT when what is stored changes shape.
  const FORMAT = 1;
  return [
    `format ${FORMAT}`,
    `meshdev ${MESHDEV_VERSION}`,
    ...['@readme/openapi-parser', 'ajv', 'ajv-draft-04', 'ajv-formats'].map(
      (name) => `${name} ${version(name)}`,
    ),
  ].join('\n');
})();

/** A cached load: the spec as `loadSpec` returned it when it was stored. */
type CacheEntry = Pick<LoadedSpec, 'doc' | 'openapi' | 'dialect' | 'files'> & { key: string };

/** Loads of specs that compiled before; without a directory, a cache that never hits. */
export class SpecCache {
  /** `dir`: where the entries live (the project's `.meshdev/cache/openapi`). */
  constructor(private readonly dir?: string) {}

  /**
   * The stored load of `file`, when neither it nor any file its `$ref`s reached has
   * changed since; undefined otherwise (or when the cache cannot be read).
   */
  async lookup(file: string): Promise<LoadedSpec | undefined> {
    if (!this.dir) return undefined;
    let entry: CacheEntry;
    try {
      entry = JSON.parse(await readFile(this.entryFile(file), 'utf8')) as CacheEntry;
    } catch {
      return undefined;
    }
    if (!Array.isArray(entry.files) || entry.files[0] !== file || !isObject(entry.doc)) {
      return undefined;
    }
    if ((await contentKey(entry.files)) !== entry.key) return undefined;
    return {
      file,
      doc: entry.doc,
      openapi: entry.openapi,
      dialect: entry.dialect,
      files: entry.files,
      cached: true,
    };
  }

  /**
   * Remembers `spec`: call it once its validators compiled. A cache that cannot be
   * written is only slower next time, never an error.
   */
  async store(spec: LoadedSpec): Promise<void> {
    if (!this.dir) return;
    // A file saved while the spec was being read (an editor's second write during a hot
    // reload) may not be in `doc`: keyed by the new content, it would be served stale.
    if (await changedSince(spec.files, (spec.readStartedAt ?? 0) - CLOCK_MARGIN_MS)) return;
    const key = await contentKey(spec.files);
    if (!key) return;
    const entry: CacheEntry = {
      key,
      files: spec.files,
      openapi: spec.openapi,
      dialect: spec.dialect,
      doc: spec.doc,
    };
    try {
      // `.meshdev/` holds keys and tokens: anything it creates is private to the user.
      ensurePrivateDir(this.dir);
      writePrivateFile(this.entryFile(spec.file), JSON.stringify(entry));
    } catch {
      // Read-only checkout, full disk: the spec is just loaded in full next time.
    }
  }

  private entryFile(file: string): string {
    const name = createHash('sha256').update(file).digest('hex').slice(0, 32);
    return path.join(this.dir!, `${name}.json`);
  }
}

/** File times come from a coarser clock than `Date.now()`: a change this close counts too. */
const CLOCK_MARGIN_MS = 50;

/** True when one of `files` was modified after `since` (ms since the epoch), or is gone. */
async function changedSince(files: readonly string[], since: number): Promise<boolean> {
  for (const file of files) {
    try {
      if ((await stat(file)).mtimeMs > since) return true;
    } catch {
      return true;
    }
  }
  return false;
}

/** A hash of the tools' versions and every file's path and content; undefined if one is unreadable. */
async function contentKey(files: readonly string[]): Promise<string | undefined> {
  const hash = createHash('sha256').update(TOOL_VERSIONS);
  for (const file of files) {
    try {
      hash.update(`\0${file}\0`).update(await readFile(file));
    } catch {
      return undefined;
    }
  }
  return hash.digest('hex');
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
