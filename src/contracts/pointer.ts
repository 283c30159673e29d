/** JSON pointers (RFC 6901) into a bundled OpenAPI document. */

/** Encodes path segments as a JSON pointer: `['paths', '/users/{id}']` → `/paths/~1users~1{id}`. */
export function toPointer(path: readonly (string | number)[]): string {
  return path.map((part) => '/' + String(part).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

/** Decodes a JSON pointer (with or without a leading `#`) into segments. */
export function fromPointer(pointer: string): string[] {
  const body = pointer.startsWith('#') ? pointer.slice(1) : pointer;
  if (body === '') return [];
  return body
    .slice(1)
    .split('/')
    .map((part) => decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The value at `path` in `doc`, or undefined. */
export function valueAt(doc: unknown, path: readonly (string | number)[]): unknown {
  let node = doc;
  for (const part of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[String(part)];
  }
  return node;
}

/**
 * Follows internal `$ref`s from the object at `path` until a plain object: returns it with
 * the path it really lives at (validators are addressed by that path).
 */
export function resolveRef(
  doc: unknown,
  path: readonly (string | number)[],
): { value: Record<string, unknown>; path: (string | number)[] } | undefined {
  let current = [...path];
  for (let hops = 0; hops < 32; hops++) {
    const value = valueAt(doc, current);
    if (!value || typeof value !== 'object') return undefined;
    const ref = (value as { $ref?: unknown }).$ref;
    if (typeof ref !== 'string' || !ref.startsWith('#')) {
      return { value: value as Record<string, unknown>, path: current };
    }
    current = fromPointer(ref);
  }
  return undefined;
}
