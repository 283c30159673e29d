/**
 * Loads `mesh.config.yaml`: parse (with positions) → interpolate `${VAR}` → schema →
 * cross-field rules → normalize. Every problem found on the way is collected and thrown
 * together as one `ConfigError`, each issue with file, line, column, key path and hint.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError, formatPath, type ConfigIssue } from './config-error.js';
import { displayPath } from './display-path.js';
import { quoteFlowReferences } from './flow-references.js';
import { interpolate } from './interpolate.js';
import type { MeshConfig } from './model.js';
import { normalize } from './normalize.js';
import { SourceMap } from './positions.js';
import { checkRules } from './rules.js';
import { pruneToValid } from './partial.js';
import { configSchema } from './schema.js';
import { fromZodIssues, type PathIssue } from './zod-issues.js';

/** Options for loading; `env` defaults to `process.env`. */
export interface LoadOptions {
  env?: Readonly<Record<string, string | undefined>>;
}

/** Reads and loads a config file. Throws `ConfigError` for any problem, I/O included. */
export function loadConfigFile(file: string, options: LoadOptions = {}): MeshConfig {
  const absolute = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'file not found'
        : (error as Error).message;
    throw new ConfigError([
      { file: displayPath(absolute), line: 0, column: 0, path: '', message: reason },
    ]);
  }
  return loadConfigText(text, absolute, options);
}

/** Loads a config from its text; `file` names it in errors and anchors relative paths. */
export function loadConfigText(text: string, file: string, options: LoadOptions = {}): MeshConfig {
  const absolute = path.resolve(file);
  const name = displayPath(absolute);
  const lines = new LineCounter();
  // `${VAR}` inside `{ }` is quoted in place (same length) so YAML can parse it.
  const flow = quoteFlowReferences(text);
  const doc = parseDocument(flow.text, {
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: true,
  });
  const sources = new SourceMap(doc, lines, text);
  const toIssue = (found: PathIssue): ConfigIssue => {
    const { line, column } = sources.locate(found.path, { key: found.atKey });
    return {
      file: name,
      line,
      column,
      path: formatPath(found.path),
      message: found.message,
      ...(found.hint ? { hint: found.hint } : {}),
      source: sources.sourceLine(line),
    };
  };

  if (doc.errors.length > 0) {
    // Later syntax errors are almost always echoes of the first: report that one.
    throw new ConfigError(
      doc.errors.slice(0, 1).map((error) => {
        const { line, column } = sources.position(error.pos[0]);
        return {
          file: name,
          line,
          column,
          path: '',
          message: `YAML syntax: ${error.message.split('\n')[0]}`,
          hint: error.code === 'DUPLICATE_KEY' ? 'remove one of the duplicate keys' : undefined,
          source: sources.sourceLine(line),
        };
      }),
    );
  }

  const missing = interpolate(doc, options.env ?? process.env, flow.rewritten);
  const issues: ConfigIssue[] = missing.map((variable) => {
    const { line, column } = sources.position(variable.offset);
    return {
      file: name,
      line,
      column,
      path: formatPath(variable.path),
      message: `environment variable ${variable.name} is not set`,
      hint: `set ${variable.name}, or give a default: \${${variable.name}:-value}`,
      source: sources.sourceLine(line),
    };
  });

  let input: unknown;
  try {
    input = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    issues.push({ file: name, line: 1, column: 1, path: '', message: (error as Error).message });
    throw new ConfigError(issues);
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    issues.push({
      file: name,
      line: 1,
      column: 1,
      path: '',
      message: 'the config must be a mapping with version, mesh and services',
      hint: 'run `meshdev init` for a starter file',
      source: sources.sourceLine(1),
    });
    throw new ConfigError(issues);
  }

  const interpolated = new Set(missing.map((variable) => formatPath(variable.path)));
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    const structural = fromZodIssues(configSchema, parsed.error.issues, input).filter(
      (found) => !interpolated.has(formatPath(found.path)),
    );
    issues.push(...structural.map(toIssue));
    const failures = parsed.error.issues.flatMap((issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => [...issue.path, key])
        : [[...issue.path]],
    );
    const partial = pruneToValid(configSchema, input, failures);
    if (partial) {
      // A rule about a whole section whose parts were pruned would only echo the pruning.
      const pruned = failures.map((failure) => formatPath(failure));
      const echoes = (found: PathIssue) =>
        !found.atKey && pruned.some((p) => p.startsWith(`${formatPath(found.path)}.`));
      issues.push(
        ...checkRules(partial.config, partial.opaque, partial.gatewayPruned)
          .filter((found) => !echoes(found))
          .map(toIssue),
      );
    }
  } else {
    issues.push(...checkRules(parsed.data).map(toIssue));
  }
  if (issues.length > 0 || !parsed.success) throw new ConfigError(dedupe(sortIssues(issues)));

  const hash = createHash('sha256').update(text).digest('hex');
  return normalize(parsed.data, absolute, hash, (at) => sources.locate(at, { key: true }).line);
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.line}:${issue.column}:${issue.path}:${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => a.line - b.line || a.column - b.column);
}
