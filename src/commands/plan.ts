/**
 * `meshdev plan set <consumer> <plan>` / `plan clear <consumer>` / `plan ls`: a consumer's
 * plan changed on the running mesh as a runtime overlay (the file's plan comes back with
 * `clear`, or when the consumer or plan leaves the config).
 */
import type { Command } from 'commander';
import { AdminClient } from '../cli/admin-client.js';
import { configOption } from '../cli/config-option.js';
import { summaryOf } from '../cli/command-index.js';

/** Registers `plan` on the program. */
export function registerPlan(program: Command): void {
  const plan = program
    .command('plan')
    .description(summaryOf('plan'))
    .addHelpText('after', '\nExample:\n  $ meshdev plan set alice gold\n');
  const connect = (options: { config?: string }) => AdminClient.connect(options.config);
  plan
    .command('set <consumer> <plan>')
    .description('put a consumer on a plan until cleared')
    .option(...configOption)
    .action(async (consumer: string, name: string, options: { config?: string }) => {
      await connect(options).call('PUT', `/v1/consumers/${encodeURIComponent(consumer)}/plan`, {
        plan: name,
      });
      process.stdout.write(
        `plan ${consumer}: ${name} (runtime overlay; \`meshdev plan clear ${consumer}\` goes back to the file)\n`,
      );
    });
  plan
    .command('clear <consumer>')
    .description("go back to the consumer's plan in the config file")
    .option(...configOption)
    .action(async (consumer: string, options: { config?: string }) => {
      const result = await connect(options).call<{ plan: string | null }>(
        'PUT',
        `/v1/consumers/${encodeURIComponent(consumer)}/plan`,
        { plan: null },
      );
      process.stdout.write(`plan ${consumer}: ${result.plan ?? 'none'} (from the config file)\n`);
    });
  plan
    .command('ls')
    .description('list runtime plan overlays')
    .option(...configOption)
    .action(async (options: { config?: string }) => {
      const { overlays } = await connect(options).call<{ overlays: Record<string, string> }>(
        'GET',
        '/v1/plans',
      );
      const entries = Object.entries(overlays);
      if (entries.length === 0)
        return void process.stdout.write(
          'no runtime plan overlays (every consumer is on its plan from the file)\n',
        );
      for (const [consumer, name] of entries)
        process.stdout.write(`${consumer}  ${name}  (runtime)\n`);
    });
}
