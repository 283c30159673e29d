/** `meshdev status`: services, versions, splits, breakers and faults in force, with their source. */
import type { Command } from 'commander';
import { AdminClient } from '../cli/admin-client.js';
import { configOption } from '../cli/config-option.js';
import type { ServiceState } from '../dataplane/runtime.js';
import { describeFault } from '../dataplane/faults/describe.js';
import { describeRoute } from './route.js';
import { summaryOf } from '../cli/command-index.js';

/** Registers `status` on the program. */
export function registerStatus(program: Command): void {
  program
    .command('status')
    .description(summaryOf('status'))
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
        `mesh ${state.mesh} — config ${state.config.status}\n${state.config.status === 'invalid' ? `${indent(state.config.message)}\n` : ''}`,
      );
      // Names padded to the longest, so versions, splits and breakers line up as a table.
      const width = Math.max(0, ...state.services.map((service) => service.name.length));
      for (const service of state.services) {
        const split = service.split
          ? `  split ${Object.entries(service.split.weights)
              .map(([v, w]) => `${v}=${w}`)
              .join(' ')} (${service.split.source})`
          : '';
        const breakers = Object.entries(service.breakers).filter(([, s]) => s !== 'closed');
        process.stdout.write(
          `  ${service.name.padEnd(width)}  versions ${service.versions.join(', ')}${split}${breakers.length ? `  breaker ${breakers.map(([v, s]) => `${v}:${s}`).join(' ')}` : ''}\n`,
        );
        for (const route of service.routes)
          process.stdout.write(`    route ${route.id} (runtime)  ${describeRoute(route)}\n`);
        for (const fault of service.faults)
          process.stdout.write(
            `    fault ${fault.id} (${fault.source})  ${describeFault(fault)}\n`,
          );
      }
    });
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
