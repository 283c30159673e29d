/**
 * Maps key paths back to line and column in the YAML source, so every config error can
 * point at the exact key or value that caused it.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, type Document, type Node } from 'yaml';

/** A 1-based position in the source text. */
export interface Position {
  line: number;
  column: number;
}

/** Looks up positions of keys and values in one parsed YAML document. */
export class SourceMap {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly text: string,
  ) {}

  /**
   * Position of the node at `path`. With `key: true`, the position of the key itself
   * (used for unknown keys); otherwise of its value. When the path runs past what the
   * file has (a missing key), the deepest existing ancestor is used.
   */
  locate(path: readonly PropertyKey[], options: { key?: boolean } = {}): Position {
    let node: unknown = this.doc.contents;
    let best: Node | null = (this.doc.contents as Node | null) ?? null;
    for (let i = 0; i < path.length; i++) {
      const part = path[i];
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find(
          (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(part),
        );
        if (!pair) break;
        if (last && options.key && isScalar(pair.key)) {
          best = pair.key;
          break;
        }
        node = pair.value;
        best = (pair.value as Node | null) ?? (pair.key as Node);
      } else if (isSeq(node) && typeof part === 'number') {
        const item = node.items[part];
        if (item === undefined) break;
        node = item;
        best = item as Node;
      } else {
        break;
      }
    }
    return this.position(best?.range?.[0] ?? 0);
  }

  /** Position of a character offset. */
  position(offset: number): Position {
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  /** The text of a 1-based line, for the caret display. */
  sourceLine(line: number): string | undefined {
    if (line < 1) return undefined;
    return this.text.split(/\r?\n/)[line - 1];
  }
}
