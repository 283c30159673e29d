/**
 * OpenAPI's `readOnly` and `writeOnly`: a `readOnly` property travels in answers only, a
 * `writeOnly` one in requests only. The flag may sit on the property's own schema or on
 * the schema its `$ref` points to (OpenAPI 3.0 ignores a `$ref`'s siblings, so a shared
 * `Password` schema carries it there). The validators (not required where it cannot
 * travel) and the dynamic mock and exploration (never made up there) read it here.
 */
import { fromPointer, resolveRef } from './pointer.js';

/** The flag a direction leaves out: `writeOnly` in answers, `readOnly` in requests. */
export type DirectionFlag = 'readOnly' | 'writeOnly';

/** The names in `properties` (a schema's `properties`, in `doc`) whose schema is marked `flag`. */
export function flaggedProperties(
  doc: Record<string, unknown>,
  properties: Record<string, unknown>,
  flag: DirectionFlag,
): string[] {
  return Object.keys(properties).filter((name) => isFlagged(doc, properties[name], flag));
}

/** True when `schema`, or the schema its local `$ref` resolves to, is marked `flag`. */
function isFlagged(doc: Record<string, unknown>, schema: unknown, flag: DirectionFlag): boolean {
  if (!schema || typeof schema !== 'object') return false;
  const object = schema as Record<string, unknown>;
  if (object[flag] === true) return true;
  const ref = object.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#')) return false;
  return resolveRef(doc, fromPointer(ref))?.value[flag] === true;
}
