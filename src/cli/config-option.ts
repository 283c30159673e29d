/** Shared `-c/--config` handling: discover the file, say which one, load it. */
import { CONFIG_FILE_NAME, discoverConfig } from '../config/discover.js';
import { displayPath } from '../config/display-path.js';
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

/**
 * Loads the config (throws `ConfigError` on problems) and tells stderr which file it used.
 * The loader (zod, yaml, the OpenAPI parser) is imported here, when a command runs, not
 * when it is registered: `meshdev --help` and `meshdev status` never pay for it.
 */
export async function loadConfigFor(
  explicit: string | undefined,
  quiet = false,
): Promise<MeshConfig> {
  const file = resolveConfigPath(explicit);
  if (!quiet) process.stderr.write(`using ${relative(file)}\n`);
  const { loadConfigFile } = await import('../config/load.js');
  return loadConfigFile(file);
}

/** A path as short as it can be shown (see `displayPath`). */
export const relative = displayPath;

/** The `-c/--config` option of commands that talk to the running mesh. */
export const configOption = [
  '-c, --config <file>',
  'config file (default: nearest mesh.config.yaml)',
] as const;
