import type { ImportOptions, ImportResult } from './istio.js';
import type { SourceObject } from './source.js';
export function importKong(
  _objects: readonly SourceObject[],
  options: ImportOptions,
): ImportResult {
  return { draft: { version: 1, mesh: { name: options.name }, services: {} }, warnings: [] };
}
