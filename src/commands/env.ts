/** `meshdev env <service>`: the variables a service uses to reach its upstreams. */
import type { Command } from 'commander';
import type { MeshConfig } from '../config/model.js';
import { AdminClient } from '../cli/admin-client.js';
import { loadConfigFor } from '../cli/config-option.js';
import { UserError } from '../cli/user-error.js';
import type { ListenerInfo } from '../dataplane/listener.js';
import { renderEnv, serviceEnv, type OutboundPortOf } from '../controlplane/service-env.js';
import { summaryOf } from '../cli/command-index.js';

const FORMATS = ['shell', 'dotenv', 'json'] as const;

/** Registers `env` on the program. */
export function registerEnv(program: Command): void {
  program
    .command('env <service>')
    .description(summaryOf('env'))
    .option('-c, --config <file>', 'config file (default: nearest mesh.config.yaml)')
    .option('--version <version>', 'for one version of the service (same as service@version)')
    .option('--format <format>', 'shell | dotenv | json', 'shell')
    .addHelpText('after', '\nExample:\n  $ eval "$(meshdev env orders)" && npm run dev\n')
    .action(
      async (name: string, options: { config?: string; format: string; version?: string }) => {
        if (!(FORMATS as readonly string[]).includes(options.format)) {
          throw new UserError(
            `unknown format "${options.format}"`,
            `use one of ${FORMATS.join(', ')}`,
            2,
          );
        }
        const [service = '', pinned] = name.split('@');
        const version = pinned ?? options.version;
        const config = await loadConfigFor(options.config);
        const spec = config.services.find((s) => s.name === service);
        if (!spec) {
          throw new UserError(
            `no service "${service}" in ${config.file}`,
            `services: ${config.services.map((s) => s.name).join(', ')}`,
          );
        }
        if (version !== undefined && !spec.instances.some((i) => i.version === version)) {
          throw new UserError(
            `${service} has no version "${version}"`,
            `versions: ${spec.instances.map((i) => i.version).join(', ')}`,
          );
        }
        const portOf = await boundPorts(config, service, options.config);
        process.stdout.write(
          renderEnv(
            serviceEnv(config, service, version, portOf),
            options.format as (typeof FORMATS)[number],
          ),
        );
      },
    );
}

/**
 * The ports the service's process really gets: those of the running mesh when there is
 * one, else the configured ones — which do not exist yet with `ports.from: 0`.
 */
async function boundPorts(
  config: MeshConfig,
  service: string,
  explicit: string | undefined,
): Promise<OutboundPortOf | undefined> {
  const client = AdminClient.find(explicit);
  if (client) {
    const state = await client.call<{ listeners: ListenerInfo[] }>('GET', '/v1/state');
    return (outbound) =>
      state.listeners.find(
        (l) =>
          l.kind === 'outbound' && l.caller === outbound.caller && l.service === outbound.service,
      )?.port ?? outbound.port;
  }
  if (config.outbound.some((outbound) => outbound.caller === service && outbound.port === 0)) {
    throw new UserError(
      `the ports of ${service}'s upstreams are chosen when the mesh starts (mesh.ports.from is 0)`,
      `start \`meshdev up\`, then run \`meshdev env ${service}\` again (or read .meshdev/env/${service}.env)`,
    );
  }
  return undefined;
}
