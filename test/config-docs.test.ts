/**
 * docs/config.md states defaults; the zod schema (through its JSON Schema) is their one
 * source. This keeps the two equal: a default changed in one place fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configJsonSchema } from '../src/config/json-schema.js';

type JsonSchema = {
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  default?: unknown;
};

const docs = readFileSync('docs/config.md', 'utf8');
const schema = configJsonSchema() as JsonSchema;

/** The rows `| key | default | meaning |` of the table under `## heading`. */
function table(heading: string): Map<string, string> {
  const section = docs.split(`\n## ${heading}\n`)[1]!.split('\n## ')[0]!;
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const key = /^`([\w.]+)`$/.exec(cells[1] ?? '')?.[1];
    if (key) rows.set(key, cells[2]!.replace(/`/g, ''));
  }
  return rows;
}

/** The schema's default for a dotted key under `node` (nested objects carry theirs). */
function defaultOf(node: JsonSchema, dotted: string): unknown {
  const [first, ...rest] = dotted.split('.');
  const child = node.properties?.[first!];
  if (!child) return undefined;
  if (rest.length === 0) return child.default;
  const nested = defaultOf(child, rest.join('.'));
  if (nested !== undefined) return nested;
  return (child.default as Record<string, unknown> | undefined)?.[rest.join('.')];
}

describe('docs/config.md', () => {
  it('states the schema defaults of every mesh key, and lists them all', () => {
    const rows = table('`mesh`');
    const mesh = schema.properties!.mesh!;
    for (const key of Object.keys(mesh.properties!)) {
      const documented = [...rows.keys()].some((row) => row === key || row.startsWith(`${key}.`));
      expect(documented, `mesh.${key} is missing from docs/config.md`).toBe(true);
    }
    for (const [key, stated] of rows) {
      const actual = defaultOf(mesh, key);
      if (actual === undefined) expect(['required', 'none'], key).toContain(stated);
      else
        expect(stated, key).toBe(Array.isArray(actual) ? JSON.stringify(actual) : String(actual));
    }
  });

  it('states the schema defaults of health, retries and circuit breakers', () => {
    const service = schema.properties!.services!.additionalProperties as JsonSchema;
    const stated = table('`services.<name>`');
    const claims: Array<[string, string, string]> = [
      ['health', 'interval', 'health'],
      ['health', 'timeout', 'health'],
      ['retries', 'attempts', 'retries'],
      ['circuitBreaker', 'consecutiveErrors', 'circuitBreaker'],
      ['circuitBreaker', 'openFor', 'circuitBreaker'],
    ];
    for (const [key, field, row] of claims) {
      const value = service.properties![key]!.properties![field]!.default;
      expect(stated.get(row), `${key}.${field}`).toContain(`${field}: ${String(value)}`);
    }
  });
});
