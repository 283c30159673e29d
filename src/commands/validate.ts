/** `meshdev validate`: check a config and report every problem at once. */
import type { Command } from 'commander';
import { ConfigError } from '../config/config-error.js';
import { summarize } from '../config/summary.js';
import { loadConfigFor } from '../cli/config-option.js';
import { formatIssues, issuesAsJson } from '../cli/format-issues.js';
import { EXIT } from '../cli/user-error.js';
import { summaryOf } from '../cli/command-index.js';

/** Registers `validate` on the program. */
export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description(summaryOf('validate'))
    .option('-c, --config <file>', 'config file (default: nearest mesh.config.yaml)')
    .option('--json', 'print problems as JSON: [{file,line,column,path,message,hint}]')
    .addHelpText('after', '\nExample:\n  $ meshdev validate -c ./mesh.config.yaml\n')
    .action(async (options: { config?: string; json?: boolean }) => {
      try {
        const config = await loadConfigFor(options.config);
        // The OpenAPI specs it names must load and compile too (the OpenAPI parser and
        // ajv are loaded only when there are specs: ~0.15 s of a spec-less validate).
        const specs = config.services.some((service) => service.instances.some((i) => i.spec));
        if (specs) {
          const { loadContracts } = await import('../contracts/contract-set.js');
          await loadContracts(config);
        }
        process.stdout.write(options.json ? '[]\n' : `${summarize(config)} — ok\n`);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        if (options.json) process.stdout.write(`${issuesAsJson(error.issues)}\n`);
        else process.stderr.write(`${formatIssues(error.issues)}\n`);
        process.exitCode = EXIT.userError;
      }
    });
}
