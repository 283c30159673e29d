/**
 * What an export or import could not carry over, on stderr one line each with its place;
 * with `--strict`, any of it makes the command exit 1 (so CI can guard the mapping).
 */
import { EXIT } from './user-error.js';

/** Prints `warnings`; with `strict`, any warning sets exit code 1. */
export function reportLossy(
  warnings: ReadonlyArray<{ at: string; message: string }>,
  strict: boolean | undefined,
): void {
  for (const warning of warnings) process.stderr.write(`${warning.at} ${warning.message}\n`);
  if (!strict || warnings.length === 0) return;
  process.stderr.write(
    `--strict: ${warnings.length} thing${warnings.length === 1 ? '' : 's'} could not be carried over\n`,
  );
  process.exitCode = EXIT.userError;
}
