/**
 * Deserializes parameters by their OpenAPI `style` and `explode` (form, spaceDelimited,
 * pipeDelimited, deepObject for queries; simple for headers; simple, label, matrix for
 * paths) into values ajv then coerces and validates.
 */
import type { ParameterSpec } from './operations.js';

/** Query pairs in order, as the URL carries them. */
export type QueryPairs = ReadonlyArray<readonly [string, string]>;

/** Parses a raw query string (without `?`). */
export function parseQuery(query: string): QueryPairs {
  return query ? [...new URLSearchParams(query)] : [];
}

/** Parses a `Cookie` header into pairs. */
export function parseCookies(header: string | undefined): QueryPairs {
  if (!header) return [];
  return header.split(';').flatMap((part) => {
    const at = part.indexOf('=');
    if (at < 0) return [];
    return [[part.slice(0, at).trim(), part.slice(at + 1).trim()] as const];
  });
}

/** The value of a query or cookie parameter; undefined when absent. */
export function readFormParameter(param: ParameterSpec, pairs: QueryPairs): unknown {
  if (param.json) {
    const raw = pairs.find(([key]) => key === param.name)?.[1];
    return raw === undefined ? undefined : parseJson(raw);
  }
  if (param.style === 'deepObject') {
    const prefix = `${param.name}[`;
    const entries = pairs.filter(([key]) => key.startsWith(prefix) && key.endsWith(']'));
    if (entries.length === 0) return undefined;
    return Object.fromEntries(entries.map(([key, value]) => [key.slice(prefix.length, -1), value]));
  }
  const values = pairs.filter(([key]) => key === param.name).map(([, value]) => value);
  if (param.type === 'object' && param.explode && param.style === 'form') {
    const props = new Set(param.properties ?? []);
    const entries = pairs.filter(([key]) => props.has(key));
    return entries.length === 0 ? undefined : Object.fromEntries(entries);
  }
  if (values.length === 0) return undefined;
  if (param.type === 'array') {
    if (param.explode && param.style === 'form') return values;
    const separator =
      param.style === 'spaceDelimited' ? ' ' : param.style === 'pipeDelimited' ? '|' : ',';
    return values[0]!.split(separator);
  }
  if (param.type === 'object') return pairsToObject(values[0]!.split(','));
  return values[0];
}

/** The value of a header parameter (style simple). */
export function readHeaderParameter(
  param: ParameterSpec,
  raw: string | string[] | undefined,
): unknown {
  if (raw === undefined) return undefined;
  const value = Array.isArray(raw) ? raw.join(',') : raw;
  if (param.json) return parseJson(value);
  return simpleValue(param, value);
}

/** The value of a path parameter (styles simple, label, matrix). */
export function readPathParameter(param: ParameterSpec, raw: string): unknown {
  if (param.json) return parseJson(raw);
  if (param.style === 'label') {
    const body = raw.startsWith('.') ? raw.slice(1) : raw;
    return simpleValue(param, param.explode ? body.split('.').join(',') : body);
  }
  if (param.style === 'matrix') {
    const parts = raw.split(';').filter(Boolean);
    const values = parts.map((part) => {
      const at = part.indexOf('=');
      return at < 0 ? part : part.slice(at + 1);
    });
    if (param.type === 'array') return param.explode ? values : (values[0] ?? '').split(',');
    return simpleValue(param, values.join(','));
  }
  return simpleValue(param, raw);
}

function simpleValue(param: ParameterSpec, value: string): unknown {
  if (param.type === 'array') return value.split(',').map((item) => item.trim());
  if (param.type === 'object') {
    if (param.explode) {
      return Object.fromEntries(
        value.split(',').map((pair) => {
          const at = pair.indexOf('=');
          return [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
        }),
      );
    }
    return pairsToObject(value.split(','));
  }
  return value;
}

function pairsToObject(parts: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < parts.length; i += 2) out[parts[i]!] = parts[i + 1]!;
  return out;
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}
