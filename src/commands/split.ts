/** `meshdev split <service> v1=80 v2=20 | --clear`: a runtime traffic split. */
import type { Command } from 'commander';
import { AdminClient } from '../cli/admin-client.js';
import { configOption } from '../cli/config-option.js';
import { UserError } from '../cli/user-error.js';
import { summaryOf } from '../cli/command-index.js';

/** Registers `split` on the program. */
export function registerSplit(program: Command): void {
  program
    .command('split <service> [weights...]')
    .description(summaryOf('split'))
    .option(...configOption)
    .option('--clear', 'remove the runtime split')
    .addHelpText('after', '\nExample:\n  $ meshdev split payments v1=80 v2=20\n')
    .action(
      async (service: string, weights: string[], options: { config?: string; clear?: boolean }) => {
        let parsed: Record<string, number> | null = null;
        if (!options.clear) {
          if (weights.length === 0)
            throw new UserError('give weights like v1=80 v2=20, or --clear', undefined, 2);
          parsed = {};
          for (const entry of weights) {
            const match = /^([^=]+)=(\d+(?:\.\d+)?)$/.exec(entry);
            if (!match)
              throw new UserError(`"${entry}" is not version=weight`, 'e.g. v1=80 v2=20', 2);
            parsed[match[1]!] = Number(match[2]);
          }
        }
        await AdminClient.connect(options.config).call(
          'PUT',
          `/v1/services/${encodeURIComponent(service)}/split`,
          { weights: parsed },
        );
        process.stdout.write(
          parsed
            ? `split ${service}: ${weights.join(' ')}\n`
            : `split ${service}: back to the config file\n`,
        );
      },
    );
}
