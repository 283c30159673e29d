/**
 * The meshdev command-line program: one commander program, one command per file in
 * `commands/`, and one top-level handler that prints each error once and sets the exit
 * code (1 user error, 2 usage, 70 bug).
 */
import { Command, CommanderError } from 'commander';
import { ConfigError } from './config/config-error.js';
import { formatIssues } from './cli/format-issues.js';
import { EXIT, UserError } from './cli/user-error.js';
import { COMMAND_INDEX } from './cli/command-index.js';
import { MESHDEV_VERSION } from './lib/meshdev-version.js';

type Register = (program: Command) => void;

/**
 * Every command, in help order, each registered from its own module on demand: a run
 * loads only the command it names (`meshdev status` never loads the mesh, `--version`
 * loads none), so a command answers in a fraction of the time all of them take to load.
 */
const COMMANDS: ReadonlyArray<readonly [name: string, load: () => Promise<Register>]> = [
  ['init', async () => (await import('./commands/init.js')).registerInit],
  ['validate', async () => (await import('./commands/validate.js')).registerValidate],
  ['schema', async () => (await import('./commands/schema.js')).registerSchema],
  ['up', async () => (await import('./commands/up.js')).registerUp],
  ['env', async () => (await import('./commands/env.js')).registerEnv],
  ['certs', async () => (await import('./commands/certs.js')).registerCerts],
  ['top', async () => (await import('./commands/top.js')).registerTop],
  ['status', async () => (await import('./commands/status.js')).registerStatus],
  ['calls', async () => (await import('./commands/calls.js')).registerCalls],
  ['fault', async () => (await import('./commands/fault.js')).registerFault],
  ['split', async () => (await import('./commands/split.js')).registerSplit],
  ['route', async () => (await import('./commands/route.js')).registerRoute],
  ['reload', async () => (await import('./commands/reload.js')).registerReload],
  ['logs', async () => (await import('./commands/logs.js')).registerLogs],
  ['check', async () => (await import('./commands/check.js')).registerCheck],
  ['export', async () => (await import('./commands/export.js')).registerExport],
  ['import', async () => (await import('./commands/import.js')).registerImport],
  ['token', async () => (await import('./commands/token.js')).registerToken],
  ['usage', async () => (await import('./commands/usage.js')).registerUsage],
  ['plan', async () => (await import('./commands/plan.js')).registerPlan],
];

/**
 * Builds the program with the commands `argv` may run: the one it names, none for
 * `--version`, only their index for the top-level help (`meshdev`, `--help`, `help`),
 * all of them otherwise (`help <command>`, a typo that gets a suggestion).
 * `helpIndex: false` loads every command for the top-level help too (the test of the index).
 */
export async function buildProgram(
  argv: readonly string[] = [],
  { helpIndex = true } = {},
): Promise<Command> {
  const program = new Command('meshdev')
    .description('a local development service mesh: mTLS, splits, faults, retries and a gateway')
    .version(MESHDEV_VERSION, '-v, --version')
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      outputError: (text, write) => write(text),
    })
    .addHelpText('after', '\nExamples:\n  $ meshdev init\n  $ meshdev validate\n  $ meshdev up\n');
  const first = argv[2];
  const topLevelHelp =
    first === undefined || first === '-h' || first === '--help' || (first === 'help' && !argv[3]);
  if (topLevelHelp && helpIndex) return withIndexedCommands(program);
  const named = COMMANDS.filter(([name]) => name === first);
  const wanted = first === '-v' || first === '--version' ? [] : named.length > 0 ? named : COMMANDS;
  for (const [, load] of wanted) (await load())(program);
  const everyCommand = (command: Command): Command[] => [
    command,
    ...command.commands.flatMap(everyCommand),
  ];
  everyCommand(program).forEach((command) => command.exitOverride());
  return program;
}

/**
 * The top-level help's commands from their index: a name, a summary and the usage the
 * help shows, without loading a module (listing them is all `meshdev --help` does).
 */
function withIndexedCommands(program: Command): Command {
  for (const { name, summary } of COMMAND_INDEX)
    program.command(name).description(summary).exitOverride();
  const usage = new Map<string, string>(COMMAND_INDEX.map((c) => [c.name, c.usage]));
  const defaultTerm = program.createHelp().subcommandTerm;
  return program.configureHelp({
    subcommandTerm(command) {
      const indexed = usage.get(command.name());
      if (indexed === undefined) return defaultTerm.call(this, command); // `help [command]`
      return indexed ? `${command.name()} ${indexed}` : command.name();
    },
  });
}

/** Runs the CLI with `argv` and sets `process.exitCode`; never throws. */
export async function main(
  argv: readonly string[],
  build: (argv: readonly string[]) => Command | Promise<Command> = buildProgram,
): Promise<void> {
  try {
    await (await build(argv)).parseAsync(argv as string[]);
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
