/**
 * Commands against the running mesh: `status`, `calls`, `fault add|ls|rm|clear`,
 * `split`, `reload`. Runtime changes are overlays on the file config: `status` lists
 * them, `fault clear` or a restart removes them.
 */
import type { Command } from 'commander';
import { AdminClient } from '../cli/admin-client.js';
import { UserError } from '../cli/user-error.js';
import type { ServiceState } from '../dataplane/runtime.js';
import { formatCallLine } from '../telemetry/access-log.js';
import type { CallRecord } from '../telemetry/call-record.js';
import { parseDuration, parseSize } from '../config/units.js';
import { describeFault } from '../dataplane/faults/describe.js';

const configOption = [
  '-c, --config <file>',
  'config file (default: nearest mesh.config.yaml)',
] as const;

/** Registers the runtime commands on the program. */
export function registerRuntime(program: Command): void {
  program
    .command('status')
    .description('services, instances, faults and splits in force in the running mesh')
    .option(...configOption)
    .option('--json', 'print the state as JSON')
    .addHelpText('after', '\nExample:\n  $ meshdev status\n')
    .action(async (options: { config?: string; json?: boolean }) => {
      const state = await AdminClient.connect(options.config).call<{
        mesh: string;
        config: { status: string; message: string };
        services: ServiceState[];
      }>('GET', '/v1/state');
      if (options.json) return void process.stdout.write(`${JSON.stringify(state, null, 2)}\n`);
      process.stdout.write(
        `mesh ${state.mesh} — config ${state.config.status}${state.config.status === 'invalid' ? '' : ''}\n`,
      );
      for (const service of state.services) {
        const split = service.split
          ? ` split ${Object.entries(service.split.weights)
              .map(([v, w]) => `${v}=${w}`)
              .join(' ')} (${service.split.source})`
          : '';
        const breakers = Object.entries(service.breakers).filter(([, s]) => s !== 'closed');
        process.stdout.write(
          `  ${service.name}  versions ${service.versions.join(', ')}${split}${breakers.length ? `  breaker ${breakers.map(([v, s]) => `${v}:${s}`).join(' ')}` : ''}\n`,
        );
        for (const fault of service.faults)
          process.stdout.write(
            `    fault ${fault.id} (${fault.source})  ${describeFault(fault)}\n`,
          );
      }
    });

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

  const fault = program
    .command('fault')
    .description('add, list and remove runtime faults')
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
    .option('--path <path>', 'only this path (exact, /prefix/*, /items/:id)')
    .option('--method <method>', 'only this method')
    .option('--for <duration>', 'remove it by itself after this long, e.g. 60s')
    .addHelpText(
      'after',
      '\nExample:\n  $ meshdev fault add payments --abort 503 --percent 50 --for 30s\n',
    )
    .action(async (service: string, options: Record<string, string | boolean | undefined>) => {
      const percent = Number(options.percent);
      if (!(percent >= 0 && percent <= 100))
        throw new UserError(
          `--percent must be 0–100, got ${String(options.percent)}`,
          undefined,
          2,
        );
      const body: Record<string, unknown> = { service, version: options.version, for: options.for };
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
      if (options.path || options.method)
        body.match = {
          ...(options.path ? { path: options.path } : {}),
          ...(options.method ? { method: options.method } : {}),
        };
      const added = await AdminClient.connect(options.config as string | undefined).call<{
        id: string;
        expiresAt?: number;
      }>('POST', '/v1/faults', body);
      process.stdout.write(
        `added fault ${added.id} on ${service}${added.expiresAt ? ` until ${new Date(added.expiresAt).toTimeString().slice(0, 8)}` : ''}\n`,
      );
    });
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

  program
    .command('split <service> [weights...]')
    .description(
      'set the traffic split of a service now, e.g. v1=80 v2=20 (--clear to go back to the file)',
    )
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

  program
    .command('reload')
    .description('re-read mesh.config.yaml now (it is also watched)')
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

function print(call: CallRecord, json?: boolean): void {
  process.stdout.write(
    `${json ? JSON.stringify(call) : formatCallLine(call, { color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR })}\n`,
  );
}
