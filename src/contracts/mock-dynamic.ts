/**
 * Prism's dynamic mode for contract mocks: a value made up from a schema on every call by
 * json-schema-faker, examples left aside. Each call's seed comes from the instance's own
 * random source, so a mesh with `mesh.seed` answers the same sequence on every run.
 *
 * json-schema-faker reads JSON Schema 2020-12: an OpenAPI 3.0 document's own readings
 * are written as such first (a boolean `exclusiveMinimum` beside `minimum`, `nullable`),
 * and the properties the direction leaves out are (`writeOnly` in answers, `readOnly` in
 * requests, which `meshdev check`'s exploration makes up).
 * The library is loaded on first need, not when the mesh starts.
 */
import type { Random } from '../lib/random.js';
import { flaggedProperties, type DirectionFlag } from './direction-flags.js';
import type { DocPath } from './operations.js';

type Faker = typeof import('json-schema-faker');

let faker: Faker | undefined;
let loading: Promise<void> | undefined;

/** Loads json-schema-faker once; `fakeValue` may be called once this resolved. */
export function loadFaker(): Promise<void> {
  loading ??= import('json-schema-faker').then((module) => {
    faker = module;
  });
  return loading;
}

/** True once `loadFaker` finished. */
export function fakerLoaded(): boolean {
  return faker !== undefined;
}

/** Which way a made-up value travels: what it may hold (`readOnly`, `writeOnly`) differs. */
export type Direction = 'request' | 'response';

/**
 * A value of the schema at `schemaPath` in `doc`, made up with a seed drawn from
 * `random`; undefined when the schema defeats the generator (the caller falls back to
 * its static answer).
 */
export function fakeValue(
  doc: Record<string, unknown>,
  schemaPath: DocPath,
  random: Random,
  direction: Direction = 'response',
): unknown {
  if (!faker) throw new Error('fakeValue before loadFaker');
  const root = {
    ...generatorDoc(doc, direction),
    $ref: `#/${schemaPath.map(escapePointer).join('/')}`,
  };
  const seed = Math.floor(random() * 0x1_0000_0000);
  try {
    // The answer's schema sits one `$ref` below the root: a chain of refs as deep as real
    // specs nest (order → customer → address → country) stays above the generator's
    // depth limit, past which it fills in values that ignore their formats.
    return faker.generateSync(root as never, { seed, failOnInvalidTypes: false, refDepthMax: 10 });
  } catch {
    return undefined;
  }
}

/** `doc` as the generator reads it for `direction`, made once per document and direction. */
function generatorDoc(doc: Record<string, unknown>, direction: Direction): Record<string, unknown> {
  let made = convertedDocs.get(doc);
  if (!made) convertedDocs.set(doc, (made = {}));
  const openApi30 = typeof doc.openapi === 'string' && doc.openapi.startsWith('3.0');
  const hidden: DirectionFlag = direction === 'response' ? 'writeOnly' : 'readOnly';
  return (made[direction] ??= asJsonSchema(doc, doc, openApi30, hidden) as Record<string, unknown>);
}

const convertedDocs = new WeakMap<
  Record<string, unknown>,
  Partial<Record<Direction, Record<string, unknown>>>
>();

/**
 * A copy of `value` (a part of `doc`) with OpenAPI 3.0's keywords as 2020-12 reads them and
 * no property marked `hidden` (`writeOnly` in answers, `readOnly` in requests), on its own
 * schema or where its `$ref` points.
 */
function asJsonSchema(
  doc: Record<string, unknown>,
  value: unknown,
  openApi30: boolean,
  hidden: DirectionFlag,
): unknown {
  if (Array.isArray(value)) return value.map((item) => asJsonSchema(doc, item, openApi30, hidden));
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value))
    out[key] = asJsonSchema(doc, item, openApi30, hidden);
  if (openApi30) {
    for (const [flag, bound] of [
      ['exclusiveMinimum', 'minimum'],
      ['exclusiveMaximum', 'maximum'],
    ] as const) {
      if (typeof out[flag] !== 'boolean') continue;
      if (out[flag] === true && typeof out[bound] === 'number') {
        out[flag] = out[bound];
        delete out[bound];
      } else delete out[flag];
    }
    if (out.nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
  }
  const properties = out.properties as Record<string, unknown> | undefined;
  if (properties && typeof properties === 'object' && !Array.isArray(properties)) {
    // Flags read in the document itself: a `$ref` resolves there, not in this copy.
    const original = (value as { properties: Record<string, unknown> }).properties;
    const left = flaggedProperties(doc, original, hidden);
    for (const name of left) delete properties[name];
    if (left.length > 0 && Array.isArray(out.required)) {
      out.required = out.required.filter((name) => !left.includes(name as string));
    }
  }
  return out;
}

/** A JSON Pointer segment (RFC 6901). */
function escapePointer(segment: string | number): string {
  return String(segment).replace(/~/g, '~0').replace(/\//g, '~1');
}
