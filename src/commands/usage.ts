/**
 * `meshdev usage [--since 1h] [--json]`: API usage of the running mesh by consumer —
 * calls, 2xx/4xx/5xx, limited (429), quota used, last seen, top endpoints.
 * `meshdev usage reset [consumer]` clears quota counters.
 */
import type { Command } from 'commander';
import { AdminClient } from '../cli/admin-client.js';
import { configOption } from '../cli/config-option.js';
import type { UsageReport } from '../controlplane/controller.js';
import { usageTable } from './usage-table.js';
import { summaryOf } from '../cli/command-index.js';

/** Registers `usage` on the program. */
export function registerUsage(program: Command): void {
  const usage = program
    .command('usage')
    .description(summaryOf('usage'))
    .option(...configOption)
    .option('--since <duration>', 'only calls of the last span, e.g. 15m or 1h')
    .option('--json', 'the report as JSON')
    .addHelpText('after', '\nExample:\n  $ meshdev usage --since 10m\n')
    .action(async (options: { config?: string; since?: string; json?: boolean }) => {
      const client = AdminClient.connect(options.config);
      const query = options.since ? `?since=${encodeURIComponent(options.since)}` : '';
      const { consumers } = await client.call<{ consumers: UsageReport[] }>(
        'GET',
        `/v1/usage${query}`,
      );
      if (options.json) return void process.stdout.write(`${JSON.stringify(consumers, null, 2)}\n`);
      process.stdout.write(`${usageTable(consumers, Date.now())}\n`);
    });
  usage
    .command('reset [consumer]')
    .description("clear quota counters (one consumer's, or everyone's)")
    .option(...configOption)
    .action(async (consumer: string | undefined, options: { config?: string }) => {
      const client = AdminClient.connect(
        options.config ?? usage.opts<{ config?: string }>().config,
      );
      const { cleared } = await client.call<{ cleared: number }>(
        'POST',
        '/v1/usage/reset',
        consumer ? { consumer } : {},
      );
      process.stdout.write(
        `cleared ${cleared} quota counter${cleared === 1 ? '' : 's'}${consumer ? ` of ${consumer}` : ''}\n`,
      );
    });
}
