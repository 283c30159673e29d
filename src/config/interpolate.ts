/**
 * `${VAR}` and `${VAR:-default}` interpolation in string values, done on the YAML tree
 * so a missing variable is reported at the exact value that uses it. `$${` escapes a
 * literal `${`. An unquoted value (or one that is a single quoted reference) that becomes
 * a number or boolean is typed as one, so `port: ${PORT:-3000}` is a port.
 */
import { isScalar, Scalar, visit, type Document } from 'yaml';

const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** A variable that was referenced without a default and is not set. */
export interface MissingVariable {
  name: string;
  /** Character offset of the scalar that references it. */
  offset: number;
  /** Key path of the scalar. */
  path: PropertyKey[];
}

/** Replaces references in every scalar of `doc` in place; returns the unset variables. */
export function interpolate(
  doc: Document,
  env: Readonly<Record<string, string | undefined>>,
  rewritten: ReadonlyMap<number, string> = new Map(),
): MissingVariable[] {
  const missing: MissingVariable[] = [];
  visit(doc, {
    Scalar(_key, node, ancestors) {
      if (typeof node.value !== 'string' || !node.value.includes('$')) return;
      // A reference quoted in place by `quoteFlowReferences` is read back as written.
      const original = rewritten.get(node.range?.[0] ?? -1) ?? node.value;
      const replaced = original.replace(REFERENCE, (whole, name?: string, fallback?: string) => {
        if (whole === '$${') return '${';
        const value = env[name!];
        if (value !== undefined && value !== '') return value;
        if (fallback !== undefined) return fallback;
        missing.push({ name: name!, offset: node.range?.[0] ?? 0, path: pathOf(ancestors, node) });
        return whole;
      });
      if (replaced === original) return;
      // A value that is exactly one reference takes the type of what it becomes, quoted or
      // not, so `port: "${PORT}"` (quotes are needed inside `{ }`) is a number.
      const single = /^\$\{[^}]+\}$/.test(original);
      node.value = node.type === Scalar.PLAIN || single ? typed(replaced) : replaced;
    },
  });
  return missing;
}

function typed(text: string): string | number | boolean {
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (text === 'true' || text === 'false') return text === 'true';
  return text;
}

function pathOf(ancestors: readonly unknown[], node: unknown): PropertyKey[] {
  const path: PropertyKey[] = [];
  let child = node;
  for (let i = ancestors.length - 1; i >= 0; i--) {
    const parent = ancestors[i] as { key?: unknown; value?: unknown; items?: unknown[] };
    if (parent && 'key' in parent && 'value' in parent && isScalar(parent.key)) {
      path.unshift(String(parent.key.value));
    } else if (parent && Array.isArray(parent.items)) {
      const index = parent.items.indexOf(child);
      if (index >= 0 && !('key' in (parent.items[index] as object))) path.unshift(index);
    }
    child = parent;
  }
  return path;
}
