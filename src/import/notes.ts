/**
 * What an import could not carry over, each at the file:line:column it comes from
 * (`reviews.yaml:14:9 spec.http[0].mirror: meshdev does not mirror traffic; skipped`).
 */
import type { SourceObject } from './source.js';

/** One field or value the import skipped or changed. */
export interface ImportWarning {
  /** `file:line:column` in the imported file. */
  at: string;
  message: string;
}

/** Collects warnings about the objects being imported. */
export class ImportNotes {
  readonly warnings: ImportWarning[] = [];

  /** Records that the field at `path` of `source` was skipped or changed. */
  warn(source: SourceObject, path: readonly PropertyKey[], message: string): void {
    const at = source.at(path);
    const text = path.length > 0 ? `${dotted(path)}: ${message}` : message;
    if (this.warnings.some((w) => w.at === at && w.message === text)) return;
    this.warnings.push({ at, message: text });
  }

  /**
   * Warns about every key of `value` (at `path`) that is not in `known`: what the import
   * does not read is listed, never dropped in silence.
   */
  unknownFields(
    source: SourceObject,
    path: readonly PropertyKey[],
    value: unknown,
    known: readonly string[],
    why = 'meshdev has no equivalent; skipped',
  ): void {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
    for (const key of Object.keys(value))
      if (!known.includes(key)) this.warn(source, [...path, key], why);
  }
}

/** `spec.http[0].route` for `['spec', 'http', 0, 'route']`. */
export function dotted(path: readonly PropertyKey[]): string {
  return path
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`,
    )
    .join('');
}
