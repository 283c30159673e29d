/** Media types: matching a `content-type` against declared ones, and reading bodies. */
import type { MediaSpec } from './operations.js';

/** The declared media type a `content-type` falls under (exact, then `type/*`, then `*\/*`). */
export function matchMediaType(
  contentType: string | undefined,
  declared: readonly MediaSpec[],
): MediaSpec | undefined {
  if (declared.length === 0) return undefined;
  // Every call of an operation asks the same question with the same few content types.
  let answers = matched.get(declared);
  if (!answers) matched.set(declared, (answers = new Map()));
  const key = contentType ?? '';
  if (answers.has(key)) return answers.get(key);
  const answer = findMediaType(contentType, declared);
  if (answers.size >= MAX_CONTENT_TYPES) answers.clear();
  answers.set(key, answer);
  return answer;
}

/** Answers of `matchMediaType` per declared list (the operation index's own arrays). */
const matched = new WeakMap<readonly MediaSpec[], Map<string, MediaSpec | undefined>>();
/** Content types remembered per list: callers may send any, so the memory is bounded. */
const MAX_CONTENT_TYPES = 32;

function findMediaType(
  contentType: string | undefined,
  declared: readonly MediaSpec[],
): MediaSpec | undefined {
  const essence = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const [type] = essence.split('/');
  const essenceOf = (media: MediaSpec) => media.type.split(';')[0]!.trim();
  return (
    declared.find((media) => essenceOf(media) === essence) ??
    declared.find((media) => essenceOf(media) === `${type}/*`) ??
    declared.find((media) => essenceOf(media) === '*/*')
  );
}

/** What a body holds for schema validation. */
export type ParsedBody =
  { kind: 'value'; value: unknown } | { kind: 'invalid'; reason: string } | { kind: 'opaque' };

/** Reads `body` as the media type says: JSON, form fields or text; anything else is opaque. */
export function parseBody(contentType: string | undefined, body: Buffer): ParsedBody {
  const essence = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (essence === 'application/json' || essence.endsWith('+json') || essence === '') {
    const text = body.toString('utf8');
    if (essence === '' && !/^\s*[[{"]/.test(text)) return { kind: 'opaque' };
    try {
      return { kind: 'value', value: JSON.parse(text) };
    } catch (error) {
      return { kind: 'invalid', reason: (error as Error).message };
    }
  }
  if (essence === 'application/x-www-form-urlencoded') {
    const out: Record<string, string | string[]> = {};
    for (const [key, value] of new URLSearchParams(body.toString('utf8'))) {
      const prior = out[key];
      out[key] = prior === undefined ? value : [...(Array.isArray(prior) ? prior : [prior]), value];
    }
    return { kind: 'value', value: out };
  }
  if (essence.startsWith('text/')) return { kind: 'value', value: body.toString('utf8') };
  return { kind: 'opaque' };
}
