/**
 * The meshdev command-line program: one commander program, one command per file in
 * `commands/`, and one top-level handler that prints each error once and sets the exit
 * code (1 user error, 2 usage, 70 bug).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ConfigError } from './config/config-error.js';
import { formatIssues } from './cli/format-issues.js';
import { EXIT, UserError } from './cli/user-error.js';
import { registerInit } from './commands/init.js';
import { registerSchema } from './commands/schema.js';
import { registerValidate } from './commands/validate.js';
import { registerUp } from './commands/up.js';
import { registerEnv } from './commands/env.js';
import { registerCerts } from './commands/certs.js';
import { registerStatus } from './commands/status.js';
import { registerCalls } from './commands/calls.js';
import { registerFault } from './commands/fault.js';
import { registerSplit } from './commands/split.js';
import { registerReload } from './commands/reload.js';
import { registerLogs } from './commands/logs.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** Builds the program; exported so tests can inspect commands and help. */
export function buildProgram(): Command {
  const program = new Command('meshdev')
    .description('a local development service mesh: mTLS, splits, faults, retries and a gateway')
    .version(pkg.version, '-v, --version')
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      outputError: (text, write) => write(text),
    })
    .addHelpText('after', '\nExamples:\n  $ meshdev init\n  $ meshdev validate\n  $ meshdev up\n');
  registerInit(program);
  registerValidate(program);
  registerSchema(program);
  registerUp(program);
  registerEnv(program);
  registerCerts(program);
  registerStatus(program);
  registerCalls(program);
  registerFault(program);
  registerSplit(program);
  registerReload(program);
  registerLogs(program);
  const everyCommand = (command: Command): Command[] => [
    command,
    ...command.commands.flatMap(everyCommand),
  ];
  everyCommand(program).forEach((command) => command.exitOverride());
  return program;
}

/** Runs the CLI with `argv` and sets `process.exitCode`; never throws. */
export async function main(
  argv: readonly string[],
  build: () => Command = buildProgram,
): Promise<void> {
  try {
    await build().parseAsync(argv as string[]);
  } catch (error) {
    process.exitCode = report(error);
  }
}

function report(error: unknown): number {
  if (error instanceof CommanderError) {
    // Help and --version end through here with exit code 0.
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (error instanceof ConfigError) {
    process.stderr.write(`${formatIssues(error.issues)}\n`);
    return EXIT.userError;
  }
  if (error instanceof UserError) {
    process.stderr.write(`error: ${error.message}\n${error.hint ? `hint: ${error.hint}\n` : ''}`);
    return error.exitCode;
  }
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`meshdev hit a bug — please report it with the lines below.\n${stack}\n`);
  return EXIT.bug;
}
