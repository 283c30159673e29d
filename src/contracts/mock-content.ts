/**
 * What body a contract mock sends for one declared response: the media type chosen by
 * the request's `Accept` (q-values and wildcards, through `negotiator`, as Express reads
 * them), then that media type's example — the one `Prefer: example=NAME` names, else the
 * first — else its schema's `example`, else a value generated from the schema by
 * openapi-sampler (read-only and write-only respected).
 */
import { createRequire } from 'node:module';
import Negotiator from 'negotiator';
import type { sample as Sample } from 'openapi-sampler';
import type { DocPath, MediaSpec } from './operations.js';
import { valueAt } from './pointer.js';

/** The media type to answer with, or why none can be. */
export type MediaChoice =
  | { kind: 'media'; media: MediaSpec; contentType: string }
  | { kind: 'no-content' }
  | { kind: 'not-acceptable' };

/**
 * Picks the declared media type `accept` prefers. Where the caller does not mind (no
 * `Accept`, `*\/*`, equal q-values) a JSON type goes first, as Prism does. A declared range
 * (`*\/*`, `text/*`) is answered with the first concrete type the caller names within it,
 * else `text/plain`.
 */
export function chooseMedia(
  content: readonly MediaSpec[],
  accept: string | undefined,
): MediaChoice {
  if (content.length === 0) return { kind: 'no-content' };
  const wanted = accept?.trim() || '*/*';
  const negotiator = new Negotiator({ headers: { accept: wanted } });
  // negotiator keeps the given order among equals: JSON first (a stable sort).
  const concrete = content
    .filter((media) => !essenceOf(media).includes('*'))
    .sort((a, b) => Number(!isJson(essenceOf(a))) - Number(!isJson(essenceOf(b))));
  const [best] = negotiator.mediaTypes(concrete.map(essenceOf));
  if (best) {
    const media = concrete.find((candidate) => essenceOf(candidate) === best)!;
    return { kind: 'media', media, contentType: best };
  }
  for (const media of content) {
    const range = essenceOf(media);
    if (!range.includes('*')) continue;
    const named = acceptedWithin(wanted, range);
    const plain =
      (range === '*/*' || range === 'text/*') && negotiator.mediaTypes(['text/plain']).length > 0;
    if (named || plain) return { kind: 'media', media, contentType: named ?? 'text/plain' };
  }
  return { kind: 'not-acceptable' };
}

/** A media type without its parameters, lower-case. */
export function essenceOf(media: MediaSpec): string {
  return media.type.split(';')[0]!.trim().toLowerCase();
}

/** `application/json` or a `+json` type. */
export function isJson(essence: string): boolean {
  return essence === 'application/json' || essence.endsWith('+json');
}

/** The first concrete type `accept` names that falls within the declared range `range`. */
function acceptedWithin(accept: string, range: string): string | undefined {
  const [rangeType] = range.split('/');
  for (const part of accept.split(',')) {
    const [type, ...parameters] = part.split(';').map((piece) => piece.trim().toLowerCase());
    if (!type || type.includes('*') || parameters.some((p) => /^q=0(\.0*)?$/.test(p))) continue;
    if (range === '*/*' || type.split('/')[0] === rangeType) return type;
  }
  return undefined;
}

/** A media type's value: the named example, else the first, else the schema's, else a sample. */
export function mediaValue(
  doc: Record<string, unknown>,
  media: MediaSpec,
  exampleName: string | undefined,
): { kind: 'value'; value: unknown } | { kind: 'none' } | { kind: 'no-such-example' } {
  const object = valueAt(doc, media.path) as Record<string, unknown> | undefined;
  const examples = object?.examples as
    Record<string, { value?: unknown; $ref?: string }> | undefined;
  if (exampleName !== undefined) {
    const named = examples && typeof examples === 'object' ? examples[exampleName] : undefined;
    const value = named && exampleValue(doc, named);
    return value === undefined ? { kind: 'no-such-example' } : { kind: 'value', value };
  }
  const value = exampleOrSample(doc, media.path, media.schemaPath);
  return value === undefined ? { kind: 'none' } : { kind: 'value', value };
}

/** The example of a media type or header object at `holder`, else its schema's, else a sample. */
export function exampleOrSample(
  doc: Record<string, unknown>,
  holder: DocPath,
  schemaPath: DocPath | undefined,
): unknown {
  const declared = declaredExample(doc, holder, schemaPath);
  if (declared !== undefined) return declared;
  const schema = schemaPath && (valueAt(doc, schemaPath) as Record<string, unknown> | undefined);
  if (!schema) return undefined;
  return sampler()(
    schema as never,
    { skipWriteOnly: true, skipNonRequired: false, quiet: true },
    doc,
  );
}

/**
 * What the document itself gives as an example for the object at `holder` (a media type,
 * a parameter, a header): its `example`, else the first of its `examples`, else its
 * schema's `example`; undefined when it gives none.
 */
export function declaredExample(
  doc: Record<string, unknown>,
  holder: DocPath,
  schemaPath: DocPath | undefined,
): unknown {
  const object = valueAt(doc, holder) as Record<string, unknown> | undefined;
  if (object?.example !== undefined) return object.example;
  const examples = object?.examples as
    Record<string, { value?: unknown; $ref?: string }> | undefined;
  if (examples && typeof examples === 'object') {
    const first = Object.values(examples)[0];
    const value = first && exampleValue(doc, first);
    if (value !== undefined) return value;
  }
  const schema = schemaPath && (valueAt(doc, schemaPath) as Record<string, unknown> | undefined);
  return schema?.example;
}

/** An Example Object's value, following its `$ref`. */
function exampleValue(
  doc: Record<string, unknown>,
  example: { value?: unknown; $ref?: string },
): unknown {
  const resolved =
    example.$ref !== undefined
      ? (valueAt(doc, example.$ref.slice(2).split('/')) as { value?: unknown } | undefined)
      : example;
  return resolved?.value;
}

/** A value as the body of `contentType`: JSON for JSON types, a string as it is otherwise. */
export function bodyOf(value: unknown, contentType: string): Buffer {
  return Buffer.from(
    typeof value === 'string' && !isJson(contentType) ? value : JSON.stringify(value),
  );
}

let loadedSampler: typeof Sample | undefined;

/** openapi-sampler, loaded when a mock first needs a generated value (not at every start). */
function sampler(): typeof Sample {
  loadedSampler ??= (createRequire(import.meta.url)('openapi-sampler') as { sample: typeof Sample })
    .sample;
  return loadedSampler;
}
