/**
 * `${VAR}` written unquoted inside a flow collection (`admin: { port: ${ADMIN_PORT} }`)
 * is not valid YAML: `{` and `}` are flow indicators there. Before parsing, each such
 * reference that makes up a whole value is rewritten in place to a double-quoted scalar of
 * the same length (`${NAME}` → `"$NAME"`), so every line and column stays where the user
 * wrote it; `interpolate` reads the original reference back from the source by offset.
 */

/** The text to parse, and the offsets of the references rewritten in it. */
export interface FlowReferences {
  text: string;
  /** Start offsets of rewritten scalars → the original reference text. */
  rewritten: Map<number, string>;
}

const REFERENCE_AT = /^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}"'\\\n]*)?\}/;
const VALUE_END = /^[ \t]*(?:[,}\]\n#]|\r?\n|$)/;

/** Finds unquoted whole-value references inside `{ }` / `[ ]` and quotes them in place. */
export function quoteFlowReferences(text: string): FlowReferences {
  const rewritten = new Map<number, string>();
  const out = text.split('');
  let depth = 0;
  let quote: '"' | "'" | undefined;
  let comment = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (comment) {
      if (char === '\n') comment = false;
      continue;
    }
    if (quote) {
      if (char === '\\' && quote === '"') {
        i++;
        continue;
      }
      if (char === quote) quote = undefined;
      continue;
    }
    if (char === '#' && (i === 0 || /\s/.test(text[i - 1]!))) comment = true;
    else if ((char === '"' || char === "'") && startsValue(text, i)) quote = char;
    else if (char === '{' || char === '[') depth++;
    else if ((char === '}' || char === ']') && depth > 0) depth--;
    else if (char === '$' && depth > 0) {
      const reference = REFERENCE_AT.exec(text.slice(i))?.[0];
      if (reference && startsValue(text, i) && VALUE_END.test(text.slice(i + reference.length))) {
        out[i] = '"';
        out[i + 1] = '$';
        out[i + reference.length - 1] = '"';
        rewritten.set(i, reference);
        i += reference.length - 1;
      }
    }
  }
  return { text: out.join(''), rewritten };
}

/** Whether a scalar starting at `i` would start there (line start, or after `: , [ { - ?`). */
function startsValue(text: string, i: number): boolean {
  return /(^|[\n,[{?-]|:[ \t])[ \t]*$/.test(text.slice(Math.max(0, i - 120), i));
}
