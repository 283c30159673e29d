/**
 * The request-match options of runtime commands (`fault add`, `route add`): `--path`,
 * `--method` and repeatable `--header`, turned into the config's match object.
 */
import { parseHeaderCondition, type HeaderCondition } from '../lib/header-condition.js';
import { UserError } from './user-error.js';

/** Help texts of the match options. */
export const MATCH_OPTIONS = {
  path: 'only this path (exact, /prefix/*, /items/:id)',
  method: 'only this method',
  header: 'only requests with this header: name=value, name~regex or name (present); repeatable',
} as const;

/** Commander's collector for a repeatable option. */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** The match the options describe, or undefined when they name none. */
export function matchFrom(options: {
  path?: unknown;
  method?: unknown;
  header?: unknown;
}): Record<string, unknown> | undefined {
  const headers = headerMatches((options.header as string[] | undefined) ?? []);
  if (!options.path && !options.method && !headers) return undefined;
  return {
    ...(options.path ? { path: options.path } : {}),
    ...(options.method ? { method: options.method } : {}),
    ...(headers ? { headers } : {}),
  };
}

/** `--header end-user=jason`, `--header x-id~^a`, `--header x-debug` as a config header match. */
export function headerMatches(
  given: readonly string[],
): Record<string, HeaderCondition> | undefined {
  if (given.length === 0) return undefined;
  const headers: Record<string, HeaderCondition> = {};
  for (const entry of given) {
    const parsed = parseHeaderCondition(entry);
    if (!parsed)
      throw new UserError(
        `--header "${entry}" is not a header match`,
        'e.g. end-user=jason, x-id~^a or x-debug',
        2,
      );
    headers[parsed[0]] = parsed[1];
  }
  return headers;
}
