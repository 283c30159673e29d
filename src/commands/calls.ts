/** `meshdev calls [--follow]`: recent and live calls of the running mesh. */
import type { Command } from 'commander';
import { AdminClient } from '../cli/admin-client.js';
import { configOption } from '../cli/config-option.js';
import { formatCallLine, formatViolation } from '../telemetry/access-log.js';
import type { CallRecord } from '../telemetry/call-record.js';
import { summaryOf } from '../cli/command-index.js';

/** Registers `calls` on the program. */
export function registerCalls(program: Command): void {
  program
    .command('calls')
    .description(summaryOf('calls'))
    .option(...configOption)
    .option('--follow', 'keep printing calls as they happen')
    .option('--service <name>', 'only calls to this service')
    .option('--status <status>', 'only this status or class, e.g. 503 or 5xx')
    .option(
      '--violations',
      "only calls that broke their callee's OpenAPI contract, with each violation",
    )
    .option('--json', 'one JSON object per call')
    .addHelpText(
      'after',
      '\nExample:\n  $ meshdev calls --follow --service payments --status 5xx\n',
    )
    .action(
      async (options: {
        config?: string;
        follow?: boolean;
        service?: string;
        status?: string;
        violations?: boolean;
        json?: boolean;
      }) => {
        const client = AdminClient.connect(options.config);
        const query = new URLSearchParams();
        if (options.service) query.set('service', options.service);
        if (options.status) query.set('status', options.status);
        if (options.violations) query.set('violations', '1');
        if (!options.follow) {
          const { calls } = await client.call<{ calls: CallRecord[] }>(
            'GET',
            `/v1/calls/recent?${query.toString()}`,
          );
          for (const call of calls.reverse()) print(call, options.json);
          return;
        }
        await client.follow(`?${query.toString()}`, (call) =>
          print(call as unknown as CallRecord, options.json),
        );
      },
    );
}

function print(call: CallRecord, json?: boolean): void {
  if (json) return void process.stdout.write(`${JSON.stringify(call)}\n`);
  const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
  process.stdout.write(`${formatCallLine(call, { color })}\n`);
  for (const violation of call.violations ?? []) {
    process.stdout.write(`  ${formatViolation(violation)}\n`);
  }
}
