/** `meshdev calls [--follow]`: recent and live calls of the running mesh. */
import type { Command } from 'commander';
import { AdminClient } from '../cli/admin-client.js';
import { configOption } from '../cli/config-option.js';
import { formatCallLine } from '../telemetry/access-log.js';
import type { CallRecord } from '../telemetry/call-record.js';

/** Registers `calls` on the program. */
export function registerCalls(program: Command): void {
  program
    .command('calls')
    .description('recent and live calls of the running mesh')
    .option(...configOption)
    .option('--follow', 'keep printing calls as they happen')
    .option('--service <name>', 'only calls to this service')
    .option('--status <status>', 'only this status or class, e.g. 503 or 5xx')
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
        json?: boolean;
      }) => {
        const client = AdminClient.connect(options.config);
        const query = new URLSearchParams();
        if (options.service) query.set('service', options.service);
        if (options.status) query.set('status', options.status);
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
  process.stdout.write(
    `${json ? JSON.stringify(call) : formatCallLine(call, { color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR })}\n`,
  );
}
