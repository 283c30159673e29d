/** One problem found in a config file, positioned so an editor can jump to it. */
export interface ConfigIssue {
  file: string;
  /** 1-based line; 0 when the problem has no place in the file (e.g. it is missing). */
  line: number;
  /** 1-based column. */
  column: number;
  /** Dotted key path, e.g. `services.payments.retries.attempts`; empty for the whole file. */
  path: string;
  message: string;
  hint?: string;
  /** The offending source line, for the caret display. */
  source?: string;
}

/** Every problem of a config, thrown together so the user can fix them all in one pass. */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    const first = issues[0];
    super(
      first
        ? `${first.file}:${first.line}:${first.column} ${first.path}: ${first.message}` +
            (issues.length > 1 ? ` (and ${issues.length - 1} more)` : '')
        : 'invalid config',
    );
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** Joins a key path the way users read it: `services.payments.routes[0].split`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}
