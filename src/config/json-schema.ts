/** The JSON Schema (draft 2020-12) of `mesh.config.yaml`, derived from the zod schema. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { configSchema } from './schema.js';

/** The schema file shipped in the package (kept identical to `configJsonSchema()` by a test). */
export const SHIPPED_SCHEMA_PATH = fileURLToPath(
  new URL('../../schema/mesh.config.schema.json', import.meta.url),
);

/** Builds the JSON Schema of the config's input form (what users write). */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, {
    io: 'input',
    target: 'draft-2020-12',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
}

/** The `$schema` reference for a config in `dir`: a relative path to the shipped file. */
export function schemaReferenceFrom(dir: string): string {
  const relative = path.relative(dir, SHIPPED_SCHEMA_PATH).split(path.sep).join('/');
  return relative.startsWith('.') ? relative : `./${relative}`;
}
