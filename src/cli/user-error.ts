/**
 * Errors a user can fix, told apart from bugs: a `UserError` prints once, without a
 * stack, with a hint, and exits 1 (2 for usage). Anything else is a bug: stack, exit 70.
 */

/** Exit codes of the CLI. */
export const EXIT = { ok: 0, userError: 1, usage: 2, bug: 70 } as const;

/** A problem the user can fix; the message says what, the hint says how. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    readonly exitCode: number = EXIT.userError,
  ) {
    super(message);
    this.name = 'UserError';
  }
}
