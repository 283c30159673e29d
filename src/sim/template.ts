/**
 * Body templates of simulated responses: `{{params.id}}`, `{{query.x}}`, `{{body.field}}`,
 * `{{headers.name}}`, `{{uuid}}`, `{{now}}`. A string that is exactly one placeholder
 * takes the value's own type (`{{body.qty}}` stays a number); otherwise text is spliced.
 */
import { randomUUID } from 'node:crypto';

/** What placeholders can read. */
export interface TemplateScope {
  params: Record<string, string>;
  query: Record<string, string>;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
  /** The route's calls made so far, by name: `{{calls.ratings.body.stars}}`. */
  calls?: Record<string, unknown>;
}

const PLACEHOLDER = /\{\{\s*([\w.-]+)\s*\}\}/g;
const WHOLE = /^\{\{\s*([\w.-]+)\s*\}\}$/;

/** Renders every string inside `template` (objects and arrays recursively). */
export function renderTemplate(template: unknown, scope: TemplateScope): unknown {
  if (typeof template === 'string') {
    const whole = WHOLE.exec(template);
    if (whole) return lookup(whole[1]!, scope) ?? null;
    return template.replace(PLACEHOLDER, (_match, name: string) => {
      const value = lookup(name, scope);
      if (value === undefined || value === null) return '';
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
    });
  }
  if (Array.isArray(template)) return template.map((item) => renderTemplate(item, scope));
  if (template && typeof template === 'object') {
    return Object.fromEntries(
      Object.entries(template).map(([key, value]) => [key, renderTemplate(value, scope)]),
    );
  }
  return template;
}

/**
 * Renders the placeholders of one string as text (a call's path or header value), each
 * value passed through `encode` (e.g. `encodeURIComponent` for a path).
 */
export function renderText(
  template: string,
  scope: TemplateScope,
  encode: (text: string) => string = (text) => text,
): string {
  return template.replace(PLACEHOLDER, (_match, name: string) => {
    const value = lookup(name, scope);
    if (value === undefined || value === null) return '';
    return encode(typeof value === 'object' ? JSON.stringify(value) : String(value));
  });
}

function lookup(name: string, scope: TemplateScope): unknown {
  if (name === 'uuid') return randomUUID();
  if (name === 'now') return new Date().toISOString();
  const [root, ...rest] = name.split('.');
  // Header names are case-insensitive; Node keeps them in lower case.
  if (root === 'headers') rest.splice(0, rest.length, ...rest.map((part) => part.toLowerCase()));
  let value: unknown = (scope as unknown as Record<string, unknown>)[root!];
  for (const part of rest) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}
