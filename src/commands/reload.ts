/** `meshdev reload`: re-read the config file now, through the same admission as a save. */
import type { Command } from 'commander';
import { AdminClient } from '../cli/admin-client.js';
import { configOption } from '../cli/config-option.js';
import { UserError } from '../cli/user-error.js';
import { summaryOf } from '../cli/command-index.js';

/** Registers `reload` on the program. */
export function registerReload(program: Command): void {
  program
    .command('reload')
    .description(summaryOf('reload'))
    .option(...configOption)
    .addHelpText('after', '\nExample:\n  $ meshdev reload\n')
    .action(async (options: { config?: string }) => {
      const client = AdminClient.connect(options.config);
      const result = await client
        .call<{ applied: boolean; message: string }>('POST', '/v1/reload')
        .catch((error: unknown) => {
          throw error instanceof UserError
            ? new UserError(`config not applied:\n${error.message}`)
            : error;
        });
      process.stdout.write(
        `${result.applied ? 'reloaded' : 'nothing applied'}: ${result.message}\n`,
      );
    });
}
