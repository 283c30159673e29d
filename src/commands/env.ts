/** `meshdev env <service>`: the variables a service uses to reach its upstreams. */
import type { Command } from 'commander';
import { loadConfigFor } from '../cli/config-option.js';
import { UserError } from '../cli/user-error.js';
import { renderEnv, serviceEnv } from './env-vars.js';

const FORMATS = ['shell', 'dotenv', 'json'] as const;

/** Registers `env` on the program. */
export function registerEnv(program: Command): void {
  program
    .command('env <service>')
    .description('print the environment of a service: MESH_SERVICE, PORT and every <UPSTREAM>_URL')
    .option('-c, --config <file>', 'config file (default: nearest mesh.config.yaml)')
    .option('--version <version>', 'for one version of the service')
    .option('--format <format>', 'shell | dotenv | json', 'shell')
    .addHelpText('after', '\nExample:\n  $ eval "$(meshdev env orders)" && npm run dev\n')
    .action((service: string, options: { config?: string; format: string; version?: string }) => {
      if (!(FORMATS as readonly string[]).includes(options.format)) {
        throw new UserError(
          `unknown format "${options.format}"`,
          `use one of ${FORMATS.join(', ')}`,
          2,
        );
      }
      const config = loadConfigFor(options.config);
      if (!config.services.some((s) => s.name === service)) {
        throw new UserError(
          `no service "${service}" in ${config.file}`,
          `services: ${config.services.map((s) => s.name).join(', ')}`,
        );
      }
      process.stdout.write(
        renderEnv(
          serviceEnv(config, service, options.version),
          options.format as (typeof FORMATS)[number],
        ),
      );
    });
}
