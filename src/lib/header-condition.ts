/** A header condition as people type it: `end-user=jason`, `x-id~^a` (regex), `x-debug` (present). */

/** The config's form of one header condition. */
export type HeaderCondition = string | { regex: string } | { present: true };

/** The name (lower case) and condition `text` says, or undefined when it says none. */
export function parseHeaderCondition(text: string): [string, HeaderCondition] | undefined {
  const match = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)(?:(=|~)(.*))?$/.exec(text.trim());
  if (!match) return undefined;
  const [, name, operator, value = ''] = match;
  return [
    name!.toLowerCase(),
    operator === '=' ? value : operator === '~' ? { regex: value } : { present: true },
  ];
}
