/**
 * Answers requests from a contract, as Prism's mock mode does — inside the mesh, with
 * faults and splits around it: the operation's first declared success (or the status a
 * `Prefer: code=404` header asks for), with the media type's example (or the named one of
 * `Prefer: example=NAME`), else the schema's, else a value generated from the schema by
 * openapi-sampler. Required response headers get values the same way.
 */
import { createRequire } from 'node:module';
import type { sample as Sample } from 'openapi-sampler';
import { declaredResponse } from './check-response.js';
import type { Contract } from './contract.js';
import type { DocPath, MediaSpec, Operation, ResponseSpec } from './operations.js';
import { valueAt } from './pointer.js';

/** What the mock answers. */
export interface MockAnswer {
  status: number;
  headers: Record<string, string>;
  body?: Buffer;
}

/** Answers `method path` from `contract`; undefined when the spec has no such operation. */
export function mockAnswer(
  contract: Contract,
  method: string,
  pathname: string,
  prefer: string | undefined,
): MockAnswer | undefined {
  const match = contract.index.match(method === 'HEAD' ? 'GET' : method, pathname);
  if (match.kind !== 'operation') return undefined;
  const wants = parsePrefer(prefer);
  const { operation } = match;
  const response = pickResponse(operation, wants.code);
  if (!response) return { status: 204, headers: {} };
  const status = statusOf(response.key, wants.code);
  const headers: Record<string, string> = {};
  const doc = contract.spec.doc;
  for (const header of response.headers) {
    if (!header.required || !header.schemaPath) continue;
    const value = exampleOrSample(doc, header.schemaPath.slice(0, -1), header.schemaPath);
    headers[header.name] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  const media = pickMedia(response.content);
  if (!media) return { status, headers };
  headers['content-type'] = media.type.includes('*') ? 'application/json' : media.type;
  const mediaPath = media.schemaPath ? media.schemaPath.slice(0, -1) : undefined;
  const value = mediaPath
    ? exampleOrSample(doc, mediaPath, media.schemaPath, wants.example)
    : undefined;
  if (value === undefined) return { status, headers };
  const text =
    typeof value === 'string' && !/json/.test(media.type) ? value : JSON.stringify(value);
  return { status, headers, body: Buffer.from(text) };
}

function parsePrefer(prefer: string | undefined): { code?: number; example?: string } {
  const out: { code?: number; example?: string } = {};
  for (const part of (prefer ?? '').split(/[,;]/)) {
    const [key, value] = part.split('=').map((s) => s?.trim().replace(/^"|"$/g, ''));
    if (key === 'code' && value && /^\d{3}$/.test(value)) out.code = Number(value);
    if (key === 'example' && value) out.example = value;
  }
  return out;
}

/** The asked-for status if declared, else the lowest declared 2xx, else `default`, else the first. */
function pickResponse(operation: Operation, code: number | undefined): ResponseSpec | undefined {
  if (code !== undefined) {
    const wanted = declaredResponse(operation, code);
    if (wanted) return wanted;
  }
  const successes = operation.responses
    .filter((r) => /^2/.test(r.key))
    .sort((a, b) => a.key.localeCompare(b.key));
  return (
    successes[0] ?? operation.responses.find((r) => r.key === 'DEFAULT') ?? operation.responses[0]
  );
}

function statusOf(key: string, code: number | undefined): number {
  if (/^\d{3}$/.test(key)) return Number(key);
  if (code !== undefined && (key === 'DEFAULT' || key[0] === String(code)[0])) return code;
  if (/^\dXX$/.test(key)) return Number(key[0]) * 100;
  return 200;
}

function pickMedia(content: readonly MediaSpec[]): MediaSpec | undefined {
  return content.find((m) => /json/.test(m.type)) ?? content[0];
}

/** The example of a media type or header object at `holder`, else its schema's, else a sample. */
function exampleOrSample(
  doc: Record<string, unknown>,
  holder: DocPath,
  schemaPath: DocPath | undefined,
  exampleName?: string,
): unknown {
  const object = valueAt(doc, holder) as Record<string, unknown> | undefined;
  if (object?.example !== undefined) return object.example;
  const examples = object?.examples as
    Record<string, { value?: unknown; $ref?: string }> | undefined;
  if (examples && typeof examples === 'object') {
    const chosen = (exampleName && examples[exampleName]) || Object.values(examples)[0];
    const resolved =
      chosen?.$ref !== undefined
        ? (valueAt(doc, chosen.$ref.slice(2).split('/')) as { value?: unknown })
        : chosen;
    if (resolved?.value !== undefined) return resolved.value;
  }
  if (!schemaPath) return undefined;
  const schema = valueAt(doc, schemaPath) as Record<string, unknown> | undefined;
  if (!schema) return undefined;
  if (schema.example !== undefined) return schema.example;
  return sampler()(
    schema as never,
    { skipWriteOnly: true, skipNonRequired: false, quiet: true },
    doc,
  );
}

let loadedSampler: typeof Sample | undefined;

/** openapi-sampler, loaded when a mock first needs a generated value (not at every start). */
function sampler(): typeof Sample {
  loadedSampler ??= (createRequire(import.meta.url)('openapi-sampler') as { sample: typeof Sample })
    .sample;
  return loadedSampler;
}
