/** `meshdev fault add|ls|rm|clear`: runtime faults, overlays on the file config. */
import type { Command } from 'commander';
import { AdminClient } from '../cli/admin-client.js';
import { configOption } from '../cli/config-option.js';
import { UserError } from '../cli/user-error.js';
import { parseDuration, parseSize } from '../config/units.js';
import type { ServiceState } from '../dataplane/runtime.js';
import { describeFault } from '../dataplane/faults/describe.js';
import { collect, matchFrom, MATCH_OPTIONS } from '../cli/match-options.js';
import { summaryOf } from '../cli/command-index.js';

/** Registers `fault` on the program. */
export function registerFault(program: Command): void {
  const fault = program
    .command('fault')
    .description(summaryOf('fault'))
    .addHelpText(
      'after',
      '\nExamples:\n  $ meshdev fault add payments --delay 2s --percent 10\n  $ meshdev fault ls\n',
    );
  fault
    .command('add <service>')
    .description('inject a fault now (a runtime overlay)')
    .option(...configOption)
    .option('--version <version>', 'only this version')
    .option('--abort <status>', 'answer this status, e.g. 503')
    .option('--delay <duration>', 'delay by this long, e.g. 2s')
    .option('--reset', 'reset the connection')
    .option('--bandwidth <size>', 'throttle the response to this many bytes per second, e.g. 8KiB')
    .option('--percent <percent>', 'share of requests, 0–100', '100')
    .option('--path <path>', MATCH_OPTIONS.path)
    .option('--method <method>', MATCH_OPTIONS.method)
    .option('--header <match>', MATCH_OPTIONS.header, collect, [] as string[])
    .option('--for <duration>', 'remove it by itself after this long, e.g. 60s')
    .addHelpText(
      'after',
      '\nExamples:\n  $ meshdev fault add payments --abort 503 --percent 50 --for 30s\n  $ meshdev fault add ratings --delay 7s --header end-user=jason\n',
    )
    .action(
      async (service: string, options: Record<string, string | string[] | boolean | undefined>) => {
        const percent = Number(options.percent);
        if (!(percent >= 0 && percent <= 100))
          throw new UserError(
            `--percent must be 0–100, got ${String(options.percent)}`,
            undefined,
            2,
          );
        const body: Record<string, unknown> = {
          service,
          version: options.version,
          for: options.for,
        };
        if (options.abort !== undefined) body.abort = { status: Number(options.abort), percent };
        if (options.delay !== undefined) body.delay = { duration: options.delay, percent };
        if (options.reset) body.reset = { percent };
        if (options.bandwidth !== undefined) {
          if (parseSize(String(options.bandwidth)) === undefined)
            throw new UserError(
              `--bandwidth: "${String(options.bandwidth)}" is not a size`,
              'e.g. 8KiB',
              2,
            );
          body.bandwidth = { rate: options.bandwidth, percent };
        }
        if (!body.abort && !body.delay && !body.reset && !body.bandwidth) {
          throw new UserError(
            'say what to inject',
            'use --abort 503, --delay 2s, --reset or --bandwidth 8KiB',
            2,
          );
        }
        if (options.for !== undefined && parseDuration(String(options.for)) === undefined)
          throw new UserError(`--for: "${String(options.for)}" is not a duration`, 'e.g. 30s', 2);
        const match = matchFrom(options);
        if (match) body.match = match;
        const added = await AdminClient.connect(options.config as string | undefined).call<{
          id: string;
          expiresAt?: number;
        }>('POST', '/v1/faults', body);
        process.stdout.write(
          `added fault ${added.id} on ${service}${added.expiresAt ? ` until ${new Date(added.expiresAt).toTimeString().slice(0, 8)}` : ''}\n`,
        );
      },
    );
  fault
    .command('ls')
    .description('list the faults in force (file and runtime)')
    .option(...configOption)
    .addHelpText('after', '\nExample:\n  $ meshdev fault ls\n')
    .action(async (options: { config?: string }) => {
      const state = await AdminClient.connect(options.config).call<{ services: ServiceState[] }>(
        'GET',
        '/v1/state',
      );
      const faults = state.services.flatMap((service) => service.faults);
      if (faults.length === 0) return void process.stdout.write('no faults in force\n');
      for (const f of faults)
        process.stdout.write(
          `${f.id}  ${f.service}${f.version ? `@${f.version}` : ''}  ${describeFault(f)}  (${f.source})\n`,
        );
    });
  fault
    .command('rm <id>')
    .description('remove one runtime fault')
    .option(...configOption)
    .addHelpText('after', '\nExample:\n  $ meshdev fault rm rt-1\n')
    .action(async (id: string, options: { config?: string }) => {
      await AdminClient.connect(options.config).call(
        'DELETE',
        `/v1/faults/${encodeURIComponent(id)}`,
      );
      process.stdout.write(`removed ${id}\n`);
    });
  fault
    .command('clear')
    .description('remove every runtime fault (file faults stay)')
    .option(...configOption)
    .addHelpText('after', '\nExample:\n  $ meshdev fault clear --service payments\n')
    .option('--service <name>', 'only this service')
    .action(async (options: { config?: string; service?: string }) => {
      const { removed } = await AdminClient.connect(options.config).call<{ removed: number }>(
        'DELETE',
        `/v1/faults${options.service ? `?service=${encodeURIComponent(options.service)}` : ''}`,
      );
      process.stdout.write(`removed ${removed} runtime fault${removed === 1 ? '' : 's'}\n`);
    });
}
