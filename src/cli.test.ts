import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from './cli.js';
import { UserError } from './cli/user-error.js';
import { COMMAND_INDEX } from './cli/command-index.js';

const program = (action: () => void) => () => new Command('meshdev').exitOverride().action(action);

afterEach(() => {
  process.exitCode = undefined;
  vi.restoreAllMocks();
});

describe('the top-level error handler', () => {
  it('prints a bug with its stack and exits 70', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await main(
      ['node', 'meshdev'],
      program(() => {
        throw new TypeError('cannot read x of undefined');
      }),
    );
    expect(process.exitCode).toBe(70);
    const printed = stderr.mock.calls.map(([text]) => String(text)).join('');
    expect(printed).toContain('meshdev hit a bug — please report it');
    expect(printed).toMatch(/TypeError: cannot read x of undefined\n\s+at /);
  });

  it('prints a user error once, with its hint and no stack, and exits with its code', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await main(
      ['node', 'meshdev'],
      program(() => {
        throw new UserError('no such thing', 'try another', 2);
      }),
    );
    expect(process.exitCode).toBe(2);
    expect(stderr.mock.calls.map(([text]) => String(text)).join('')).toBe(
      'error: no such thing\nhint: try another\n',
    );
  });
});

describe('the top-level help', () => {
  it('lists every command from its index exactly as the command modules register them', async () => {
    const { buildProgram } = await import('./cli.js');
    const indexed = await buildProgram(['node', 'meshdev', '--help']);
    const loaded = await buildProgram(['node', 'meshdev', '--help'], { helpIndex: false });
    expect(indexed.helpInformation()).toBe(loaded.helpInformation());
    expect(loaded.commands.map((command) => command.name())).toEqual([
      ...COMMAND_INDEX.map((command) => command.name),
      ...(loaded.commands.some((command) => command.name() === 'help') ? ['help'] : []),
    ]);
  });
});
