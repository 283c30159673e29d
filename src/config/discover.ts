/**
 * Finds the config file the way git finds its repository: `-c FILE` when given, else
 * `mesh.config.yaml` in the working directory, else the nearest one in a parent.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

/** The file name looked for when `-c` is not given. */
export const CONFIG_FILE_NAME = 'mesh.config.yaml';

/** The absolute config path, or undefined when none is found. */
export function discoverConfig(
  explicit: string | undefined,
  cwd = process.cwd(),
): string | undefined {
  if (explicit) return path.resolve(cwd, explicit);
  let dir = path.resolve(cwd);
  for (;;) {
    const candidate = path.join(dir, CONFIG_FILE_NAME);
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}
