/**
 * meshdev's own version, read from its package.json. This file sits two directories below
 * the package root both when compiled (`dist/lib/meshdev-version.js`) and when bundled
 * (`dist/bundle/*.js`), so one relative path serves both.
 */
import { readFileSync } from 'node:fs';

/** The `version` of meshdev's package.json. */
export const MESHDEV_VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;
