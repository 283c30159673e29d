/**
 * When a config fails the schema, the cross-field rules should still run on everything
 * else, so one typo does not hide a wrong split three services away. This prunes the
 * offending keys from a copy of the input and re-validates, a bounded number of times.
 */
import type { z } from 'zod';
import type { RawConfig } from './schema.js';

const MAX_ROUNDS = 8;

/** A schema-valid config with the broken parts removed; `opaque` names removed services. */
export interface PrunedConfig {
  config: RawConfig;
  opaque: Set<string>;
  /** True when the gateway section had to be removed whole. */
  gatewayPruned: boolean;
}

/**
 * Removes every failing path (or its nearest removable ancestor) and re-parses until the
 * schema passes. Services that had to be removed whole are listed as `opaque`.
 */
export function pruneToValid(
  schema: z.ZodType<RawConfig>,
  input: unknown,
  firstFailures: ReadonlyArray<readonly PropertyKey[]>,
): PrunedConfig | undefined {
  if (input === null || typeof input !== 'object') return undefined;
  const data = structuredClone(input) as Record<string, unknown>;
  const opaque = new Set<string>();
  let failures = firstFailures;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    for (const path of failures) {
      if (!prune(data, path, opaque)) return undefined;
    }
    const parsed = schema.safeParse(data);
    if (parsed.success) {
      return { config: parsed.data, opaque, gatewayPruned: hasGateway(input) && !data.gateway };
    }
    failures = parsed.error.issues.flatMap((issue) => leafPaths(issue));
  }
  return undefined;
}

function prune(data: Record<string, unknown>, path: readonly PropertyKey[], opaque: Set<string>) {
  if (path[0] === 'services' && path.length <= 2) {
    if (path.length === 1) return false;
    opaque.add(String(path[1]));
    delete (data.services as Record<string, unknown>)[String(path[1])];
    return true;
  }
  if (path[0] === 'mesh' && path.length === 1) {
    data.mesh = { name: 'mesh' };
    return true;
  }
  if (path.length <= 1) {
    if (path[0] === 'gateway' || path[0] === 'load') {
      delete data[String(path[0])];
      return true;
    }
    return path.length === 1 && path[0] === 'version' ? ((data.version = 1), true) : false;
  }
  // Never leave a hole in a list: remove the list itself rather than shift its indexes.
  const cut = path.findIndex((part) => typeof part === 'number');
  const target = cut >= 0 && cut === path.length - 1 ? path.slice(0, cut) : path;
  const parent = walk(data, target.slice(0, -1));
  const key = target.at(-1)!;
  if (parent && typeof parent === 'object' && key in parent) {
    delete (parent as Record<PropertyKey, unknown>)[key];
    return true;
  }
  // Nothing to delete there (a missing key): prune the parent instead.
  return prune(data, target.slice(0, -1), opaque);
}

function hasGateway(input: object): boolean {
  return 'gateway' in input;
}

function walk(data: unknown, path: readonly PropertyKey[]): unknown {
  let node = data;
  for (const part of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return node;
}

function leafPaths(issue: z.core.$ZodIssue): PropertyKey[][] {
  if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => [...issue.path, key]);
  return [[...issue.path]];
}
