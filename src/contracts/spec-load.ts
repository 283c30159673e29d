/**
 * Loads one OpenAPI document (3.0.x or 3.1.x, YAML or JSON, `$ref`s across files) with
 * `@readme/openapi-parser`: validated, then bundled into one document whose `$ref`s all
 * point inside it. A broken spec is a `ConfigError` positioned in the spec file, never a
 * crash. A spec whose files have not changed since it last compiled comes from the
 * `SpecCache`, and the parser is not even loaded.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parse as parseYaml, parseDocument } from 'yaml';
import { ConfigError, formatPath, type ConfigIssue } from '../config/config-error.js';
import { SourceMap } from '../config/positions.js';
import { displayPath } from '../config/display-path.js';
import { jsonLinePointers } from './json-lines.js';
import { SpecCache } from './spec-cache.js';

/** A JSON object as the parser returns it. */
export type JsonObject = Record<string, unknown>;

/** One loaded, bundled OpenAPI document. */
export interface LoadedSpec {
  /** Absolute path of the spec's entry file. */
  file: string;
  /** The bundled document: every `$ref` is an internal `#/…` pointer. */
  doc: JsonObject;
  /** `3.0` (JSON Schema draft-04 semantics) or `3.1` (2020-12 unless `jsonSchemaDialect` says otherwise). */
  openapi: '3.0' | '3.1';
  /** `jsonSchemaDialect` of a 3.1 document, when given. */
  dialect?: string;
  /** The entry file and every local file its `$ref`s reach (watched for hot reload). */
  files: string[];
  /** True when it came from the `SpecCache`: it validated and compiled before, unchanged. */
  cached?: boolean;
  /** When its files began to be read (ms since the epoch): a later change is not in `doc`. */
  readStartedAt?: number;
}

/** Loads and checks `file`; throws a `ConfigError` listing every problem found. */
export async function loadSpec(
  file: string,
  cache: SpecCache = new SpecCache(),
): Promise<LoadedSpec> {
  const known = await cache.lookup(file);
  if (known) return known;
  const readStartedAt = Date.now();
  const shown = displayPath(file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw specError(
      shown,
      `cannot read the spec: ${(error as Error).message}`,
      'check the path in `spec:` (relative to mesh.config.yaml)',
    );
  }
  // Loaded only when a spec is new or changed: ~0.1 s of module loading otherwise spent.
  const { bundle, dereference, validate } = await import('@readme/openapi-parser');
  let doc: JsonObject;
  try {
    // One parse: the bundled document (external `$ref`s pulled in) is what gets validated.
    doc = (await bundle(file)) as unknown as JsonObject;
  } catch (error) {
    const syntax = yamlErrors(shown, text);
    if (syntax) throw syntax;
    throw specError(
      shown,
      referenceMessage(error),
      'fix the `$ref` (paths are relative to the file that holds them)',
    );
  }
  const version = openapiVersion(doc);
  if (typeof version !== 'string') throw specError(shown, version.message, version.hint);
  const result = await validate(structuredClone(doc) as never, {
    validate: { errors: { colorize: false } },
  });
  if (!result.valid) {
    // The parser's code frame shows the dereferenced document as indented JSON.
    const rendered = await dereference(structuredClone(doc) as never).catch(() => doc);
    const pointers = jsonLinePointers(rendered);
    const sourceMap = yamlSourceMap(text);
    throw new ConfigError(
      result.errors.map((error) => positionedIssue(shown, error.message, pointers, sourceMap)),
    );
  }
  const dialect = typeof doc.jsonSchemaDialect === 'string' ? doc.jsonSchemaDialect : undefined;
  return {
    file,
    doc,
    openapi: version.startsWith('3.0') ? '3.0' : '3.1',
    dialect,
    files: await referencedFiles(file),
    readStartedAt,
  };
}

function yamlSourceMap(text: string): SourceMap {
  const lines = new LineCounter();
  return new SourceMap(
    parseDocument(text, { lineCounter: lines, prettyErrors: false }),
    lines,
    text,
  );
}

/** The YAML (or JSON) syntax errors of `text`, positioned; undefined when it parses. */
function yamlErrors(file: string, text: string): ConfigError | undefined {
  const lines = new LineCounter();
  const source = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (source.errors.length === 0) return undefined;
  const sourceMap = new SourceMap(source, lines, text);
  return new ConfigError(
    source.errors.map((error) => {
      const at = sourceMap.position(error.pos[0]);
      return {
        file,
        ...at,
        path: '',
        message: `not valid YAML/JSON: ${error.message.split('\n')[0]}`,
        source: sourceMap.sourceLine(at.line),
      };
    }),
  );
}

function openapiVersion(raw: unknown): string | { message: string; hint: string } {
  const doc = raw && typeof raw === 'object' ? (raw as JsonObject) : {};
  if (typeof doc.swagger === 'string') {
    return {
      message: `Swagger ${doc.swagger} is not supported: meshdev reads OpenAPI 3.0 and 3.1`,
      hint: 'convert it (npx swagger2openapi spec.yaml -o openapi.yaml)',
    };
  }
  const version = typeof doc.openapi === 'string' ? doc.openapi : '';
  if (/^3\.[01]\.\d+/.test(version)) return version;
  return {
    message: version
      ? `OpenAPI ${version} is not supported`
      : 'not an OpenAPI document (no `openapi:` version)',
    hint: 'meshdev reads OpenAPI 3.0.x and 3.1.x documents',
  };
}

/**
 * The parser's message is an ajv error followed by a code frame of the document rendered
 * as indented JSON; the frame's marked line gives the JSON pointer, mapped back to YAML.
 */
function positionedIssue(
  file: string,
  message: string,
  pointers: readonly (readonly (string | number)[])[],
  sourceMap: SourceMap,
): ConfigIssue {
  const [first = message, ...frame] = message.split('\n');
  const marked = frame.find((line) => /^>\s*\d+\s*\|/.test(line));
  const jsonLine = marked ? Number(/^>\s*(\d+)/.exec(marked)![1]) : 0;
  const path = pointers[jsonLine - 1];
  const text = first.replace(/^[A-Z]+ /, '').trim();
  if (!path) return { file, line: 0, column: 0, path: '', message: text };
  const at = sourceMap.locate(path);
  return {
    file,
    ...at,
    path: formatPath(path),
    message: text,
    source: sourceMap.sourceLine(at.line),
  };
}

function referenceMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `cannot resolve a $ref: ${message.split('\n')[0]}`;
}

function specError(file: string, message: string, hint?: string): ConfigError {
  return new ConfigError([{ file, line: 0, column: 0, path: '', message, hint }]);
}

/** `file` and the local files its `$ref`s reach, transitively (URLs are not followed). */
async function referencedFiles(file: string): Promise<string[]> {
  const seen = new Set<string>();
  const visit = async (current: string): Promise<void> => {
    if (seen.has(current)) return;
    seen.add(current);
    let parsed: unknown;
    try {
      const text = await readFile(current, 'utf8');
      // Most specs are one file: a second full parse of it (a third of loading a large
      // spec) only to learn that it has no external `$ref` is skipped.
      if (!mayReferToFiles(text)) return;
      parsed = parseSpecText(text);
    } catch {
      return; // bundling already read every file that matters; a broken one was reported
    }
    const refs: string[] = [];
    const walk = (node: unknown) => {
      if (!node || typeof node !== 'object') return;
      const ref = (node as { $ref?: unknown }).$ref;
      if (typeof ref === 'string' && !ref.startsWith('#') && !/^[a-z]+:\/\//i.test(ref)) {
        refs.push(path.resolve(path.dirname(current), decodeURI(ref.split('#')[0]!)));
      }
      for (const child of Object.values(node)) walk(child);
    };
    walk(parsed);
    for (const next of refs) await visit(next);
  };
  await visit(file);
  return [...seen];
}

/**
 * False only when every `$ref` in `text` is written as a local `#…` pointer (`$ref: '#/…'`,
 * `"$ref": "#/…"`); any other occurrence of `$ref` — a file, a URL, an alias, the word in a
 * description — means the document has to be parsed to know.
 */
export function mayReferToFiles(text: string): boolean {
  const all = text.split('$ref').length - 1;
  if (all === 0) return false;
  const local = text.match(/\$ref["']?[ \t]*:[ \t]*["']?#/g)?.length ?? 0;
  return local !== all;
}

/** A spec file's text as data: JSON through `JSON.parse` (many times faster), else YAML. */
function parseSpecText(text: string): unknown {
  if (/^\s*[{[]/.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // Flow-style YAML also starts with a brace.
    }
  }
  return parseYaml(text);
}
