/**
 * The key path of every line of `JSON.stringify(value, null, 2)`: how a parser's code
 * frame (which shows that rendering) is mapped back to the key it points at.
 */

/** Line `i` (0-based) of the pretty JSON of `value` shows the key path `result[i]`. */
export function jsonLinePointers(value: unknown): (string | number)[][] {
  const lines: (string | number)[][] = [[]];
  const ancestors = new Set<object>();
  const walk = (node: unknown, path: (string | number)[]) => {
    // A circular document cannot be rendered as JSON: stop at the cycle.
    if (node === null || typeof node !== 'object' || ancestors.has(node)) return;
    ancestors.add(node);
    const entries = Array.isArray(node)
      ? node.map((item, index) => [index, item] as const)
      : Object.entries(node as Record<string, unknown>).filter(([, item]) => item !== undefined);
    if (entries.length === 0) return;
    for (const [key, item] of entries) {
      const childPath = [...path, key];
      lines.push(childPath);
      walk(item, childPath);
    }
    lines.push(path); // the closing bracket
    ancestors.delete(node);
  };
  walk(value, []);
  return lines;
}
