/**
 * Turns zod's issues into config issues a person can act on: unknown keys get a
 * "did you mean", type errors say what was expected and what was found, and a union
 * (e.g. `delay: 2s` or `delay: {duration, percent}`) reports the branch the user meant.
 */
import { closest, distance } from 'fastest-levenshtein';
import type { z } from 'zod';

/** A zod issue reduced to what the config loader needs. */
export interface PathIssue {
  path: PropertyKey[];
  message: string;
  hint?: string;
  /** Point at the key rather than its value (unknown keys). */
  atKey?: boolean;
}

type AnySchema = z.core.$ZodType;

/** Flattens zod issues into one `PathIssue` per problem. */
export function fromZodIssues(
  root: AnySchema,
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
): PathIssue[] {
  const out: PathIssue[] = [];
  for (const issue of issues) collect(root, issue, [], input, out);
  return out;
}

function collect(
  root: AnySchema,
  issue: z.core.$ZodIssue,
  prefix: PropertyKey[],
  input: unknown,
  out: PathIssue[],
): void {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(root, path);
    for (const key of issue.keys) {
      const guess = suggest(key, known);
      out.push({
        path: [...path, key],
        message: guess ? `unknown key — did you mean "${guess}"?` : 'unknown key',
        hint: known.length ? `allowed here: ${known.join(', ')}` : undefined,
        atKey: true,
      });
    }
    return;
  }
  if (issue.code === 'invalid_union') {
    const value = valueAt(input, path);
    // Prefer the branch whose shape matched (its issues are deeper than the union itself).
    const deeper = issue.errors.find((branch) =>
      branch.some((inner) => inner.path.length > 0 || inner.code !== 'invalid_type'),
    );
    if (deeper) {
      for (const inner of deeper) collect(root, inner, path, input, out);
      return;
    }
    const expected = [
      ...new Set(
        issue.errors.flat().map((inner) => ('expected' in inner ? String(inner.expected) : '')),
      ),
    ].filter(Boolean);
    const custom = issue.message && !issue.message.startsWith('Invalid input') ? issue.message : '';
    out.push(split(path, custom || `expected ${expected.join(' or ')}, got ${describe(value)}`));
    return;
  }
  if (issue.code === 'invalid_value' && issue.message.startsWith('Invalid option')) {
    const value = valueAt(input, path);
    const options = issue.values.map(String);
    const guess = typeof value === 'string' ? suggest(value, options) : undefined;
    out.push({
      path,
      message:
        `expected one of ${options.join(', ')}, got ${describe(value)}` +
        (guess ? ` — did you mean "${guess}"?` : ''),
    });
    return;
  }
  if (issue.code === 'invalid_type' && issue.message.startsWith('Invalid input')) {
    const value = valueAt(input, path);
    const message =
      value === undefined
        ? `missing required key "${String(path.at(-1))}"`
        : `expected ${issue.expected}, got ${describe(value)}`;
    out.push({ path, message });
    return;
  }
  out.push(split(path, issue.message));
}

function split(path: PropertyKey[], message: string): PathIssue {
  const newline = message.indexOf('\n');
  if (newline < 0) return { path, message };
  return { path, message: message.slice(0, newline), hint: message.slice(newline + 1) };
}

/** The closest known key within a small edit distance, if any. */
export function suggest(key: string, known: readonly string[]): string | undefined {
  if (known.length === 0) return undefined;
  const guess = closest(key, known as string[]);
  const limit = Math.max(2, Math.floor(key.length / 3));
  return distance(key.toLowerCase(), guess.toLowerCase()) <= limit ? guess : undefined;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  return `${typeof value} ${String(value)}`;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let node = input;
  for (const part of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return node;
}

/** The keys an object schema accepts at `path`, found by walking the schema itself. */
function knownKeys(root: AnySchema, path: readonly PropertyKey[]): string[] {
  let candidates: AnySchema[] = [root];
  for (const part of path) {
    candidates = candidates.flatMap((schema) => step(schema, part));
  }
  const keys = new Set<string>();
  for (const schema of candidates.flatMap(unwrap)) {
    const def = schema._zod.def as { type: string; shape?: Record<string, unknown> };
    if (def.type === 'object' && def.shape) for (const key of Object.keys(def.shape)) keys.add(key);
  }
  return [...keys];
}

function unwrap(schema: AnySchema): AnySchema[] {
  const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
  switch (def.type) {
    case 'optional':
    case 'default':
    case 'prefault':
    case 'nullable':
    case 'readonly':
      return unwrap(def.innerType as AnySchema);
    case 'pipe':
      return unwrap(def.in as AnySchema);
    case 'union':
      return (def.options as AnySchema[]).flatMap(unwrap);
    default:
      return [schema];
  }
}

function step(schema: AnySchema, part: PropertyKey): AnySchema[] {
  return unwrap(schema).flatMap((inner) => {
    const def = inner._zod.def as unknown as Record<string, unknown> & { type: string };
    if (def.type === 'object') {
      const child = (def.shape as Record<string, AnySchema>)[String(part)];
      return child ? [child] : [];
    }
    if (def.type === 'record') return [def.valueType as AnySchema];
    if (def.type === 'array' && typeof part === 'number') return [def.element as AnySchema];
    return [];
  });
}
