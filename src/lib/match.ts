/**
 * Request matching shared by routes and faults: methods, path (exact `/charges`, prefix
 * `/api/*`, template `/items/:id`) and headers (exact, present, regex). Compiled once
 * per config so the per-request check is a few comparisons.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Match } from '../config/model.js';
import { escapeRegex } from './regex.js';

/** What a matcher looks at. */
export interface MatchInput {
  method: string;
  /** Path without the query string. */
  path: string;
  headers: IncomingHttpHeaders;
}

/** A compiled match: `test` answers whether a request matches. */
export interface CompiledMatch {
  test(input: MatchInput): boolean;
  /** The path pattern as written, for telemetry (`/items/:id`). */
  template: string | undefined;
  /** True when the match has no conditions: it matches every request. */
  always: boolean;
}

const ALWAYS: CompiledMatch = { test: () => true, template: undefined, always: true };

/** Compiles a match; an absent match matches everything. */
export function compileMatch(match: Match | undefined): CompiledMatch {
  if (!match || (!match.methods && match.path === undefined && !match.headers)) return ALWAYS;
  const methods = match.methods && new Set(match.methods);
  const path = match.path === undefined ? undefined : compilePath(match.path);
  const headers = Object.entries(match.headers ?? {}).map(([, rule]) => {
    const regex = rule.regex === undefined ? undefined : new RegExp(rule.regex);
    return (value: string | undefined) => {
      if (rule.present !== undefined) return (value !== undefined) === rule.present;
      if (value === undefined) return false;
      if (regex) return regex.test(value);
      return value === rule.exact;
    };
  });
  const headerNames = Object.keys(match.headers ?? {});
  return {
    template: match.path,
    always: false,
    test(input) {
      if (methods && !methods.has(input.method)) return false;
      if (path && !path(input.path)) return false;
      for (let i = 0; i < headers.length; i++) {
        const raw = input.headers[headerNames[i]!];
        const value = Array.isArray(raw) ? raw.join(', ') : raw;
        if (!headers[i]!(value)) return false;
      }
      return true;
    },
  };
}

/** Compiles a path pattern into a predicate. */
export function compilePath(pattern: string): (path: string) => boolean {
  if (pattern.endsWith('*')) {
    const prefix = pattern.slice(0, -1);
    const bare = prefix.endsWith('/') ? prefix.slice(0, -1) : undefined;
    return (path) => path.startsWith(prefix) || path === bare;
  }
  if (pattern.includes('/:')) {
    const regex = templateRegex(pattern);
    return (path) => regex.test(path);
  }
  return (path) => path === pattern;
}

/** A regex for a template such as `/items/:id`, capturing each parameter by name. */
export function templateRegex(template: string): RegExp {
  const source = template
    .split('/')
    .map((part) =>
      part.startsWith(':') ? `(?<${part.slice(1).replace(/\W/g, '_')}>[^/]+)` : escapeRegex(part),
    )
    .join('/');
  return new RegExp(`^${source}/?$`);
}
