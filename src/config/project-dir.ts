/** Where meshdev keeps its per-project files: `.meshdev/` beside the config file. */
import path from 'node:path';
import type { MeshConfig } from './model.js';

/** `.meshdev/` of the project that `config` belongs to, joined with `parts`. */
export function projectPath(config: Pick<MeshConfig, 'file'>, ...parts: string[]): string {
  return path.join(path.dirname(config.file), '.meshdev', ...parts);
}
