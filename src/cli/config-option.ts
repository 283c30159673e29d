/** Shared `-c/--config` handling: discover the file, say which one, load it. */
import path from 'node:path';
import { CONFIG_FILE_NAME, discoverConfig } from '../config/discover.js';
import { loadConfigFile } from '../config/load.js';
import type { MeshConfig } from '../config/model.js';
import { UserError } from './user-error.js';

/** Resolves the config path or explains how to get one. */
export function resolveConfigPath(explicit: string | undefined): string {
  const file = discoverConfig(explicit);
  if (!file) {
    throw new UserError(
      `no ${CONFIG_FILE_NAME} in ${process.cwd()} or any parent directory`,
      'create one with `meshdev init`, or pass -c FILE',
    );
  }
  return file;
}

/** Loads the config (throws `ConfigError` on problems) and tells stderr which file it used. */
export function loadConfigFor(explicit: string | undefined, quiet = false): MeshConfig {
  const file = resolveConfigPath(explicit);
  if (!quiet) process.stderr.write(`using ${relative(file)}\n`);
  return loadConfigFile(file);
}

/** A path as short as it can be shown. */
export function relative(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}
