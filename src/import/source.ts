/**
 * Reads what `meshdev import` is given: YAML or JSON files, directories of them, multi-
 * document streams and `kubectl get -o yaml` lists — each object kept with a way to name
 * the file, line and column of any of its fields, so what cannot be imported is reported
 * where it stands.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { displayPath } from '../config/display-path.js';
import { SourceMap } from '../config/positions.js';
import { UserError } from '../cli/user-error.js';

/** One object read from a file. */
export interface SourceObject {
  /** The object as parsed. */
  value: Record<string, unknown>;
  /** `file:line:column` of the field at `path` (relative to this object). */
  at(path: readonly PropertyKey[]): string;
}

/** Files ending in these are read from a directory; others are skipped. */
const EXTENSIONS = ['.yaml', '.yml', '.json'];

/** Every object in `inputs` (files or directories, directories read recursively; `-`: stdin). */
export function readSources(inputs: readonly string[]): SourceObject[] {
  return inputs.flatMap((input) => filesOf(input)).flatMap(readObjects);
}

function filesOf(input: string): string[] {
  if (input === '-') return [input];
  let stat;
  try {
    stat = statSync(input);
  } catch {
    throw new UserError(`${input}: no such file or directory`);
  }
  if (!stat.isDirectory()) return [input];
  return readdirSync(input, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const full = path.join(input, entry.name);
      if (entry.isDirectory()) return filesOf(full);
      return EXTENSIONS.includes(path.extname(entry.name)) ? [full] : [];
    });
}

/** The objects of one file: each document, each item of a `List`. */
export function readObjects(file: string): SourceObject[] {
  // Standard input is read from its descriptor: /dev/stdin cannot be opened on a socket.
  const text = readFileSync(file === '-' ? 0 : file, 'utf8');
  const name = file === '-' ? 'stdin' : displayPath(path.resolve(file));
  const lines = new LineCounter();
  const objects: SourceObject[] = [];
  for (const doc of parseAllDocuments(text, { lineCounter: lines, prettyErrors: false })) {
    if (doc.errors.length > 0) {
      const { line, col } = lines.linePos(doc.errors[0]!.pos[0]);
      throw new UserError(
        `${name}:${line}:${col} ${doc.errors[0]!.message.split('\n')[0]}`,
        'import reads YAML or JSON; fix the file and run it again',
      );
    }
    const value: unknown = doc.toJS();
    if (!isObject(value)) continue; // an empty document between `---`s
    const sources = new SourceMap(doc, lines, text);
    const at = (prefix: readonly PropertyKey[]) => (field: readonly PropertyKey[]) => {
      const { line, column } = sources.locate([...prefix, ...field], { key: true });
      return `${name}:${line}:${column}`;
    };
    // `kubectl get -o yaml` wraps what it lists in a List (or a <Kind>List).
    if (Array.isArray(value.items) && String(value.kind ?? '').endsWith('List')) {
      value.items.forEach((item, index) => {
        if (isObject(item)) objects.push({ value: item, at: at(['items', index]) });
      });
    } else objects.push({ value, at: at([]) });
  }
  return objects;
}

/** True for a plain object (not an array, not null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
