/**
 * The environment a service's process gets: who it is and where its upstreams are. One
 * answer for every place that tells it — the supervised process, `.meshdev/env/*.env`
 * and `meshdev env` — because they all read the ports through `portOf`.
 */
import { ensurePrivateDir, writePrivateFile } from '../lib/private-files.js';
import type { MeshConfig, OutboundSpec } from '../config/model.js';
import { projectPath } from '../config/project-dir.js';

/** The bound port of an outbound listener (the configured one until the mesh runs). */
export type OutboundPortOf = (outbound: OutboundSpec) => number;

/** Variables for `service` (and one version of it, when given). */
export function serviceEnv(
  config: MeshConfig,
  service: string,
  version?: string,
  portOf: OutboundPortOf = (outbound) => outbound.port,
): Record<string, string> {
  const spec = config.services.find((s) => s.name === service);
  if (!spec) return {};
  const instance = spec.instances.find((i) => i.version === (version ?? i.version));
  const env: Record<string, string> = { MESH_SERVICE: service };
  if (spec.versioned && instance) env.MESH_VERSION = instance.version;
  if (instance?.port !== undefined) env.PORT = String(instance.port);
  for (const outbound of config.outbound) {
    if (outbound.caller === service) env[outbound.envVar] = `http://127.0.0.1:${portOf(outbound)}`;
  }
  return env;
}

/** Renders variables as `shell` (export lines), `dotenv` or `json`. */
export function renderEnv(
  env: Record<string, string>,
  format: 'shell' | 'dotenv' | 'json',
): string {
  if (format === 'json') return `${JSON.stringify(env, null, 2)}\n`;
  const quote = (value: string) =>
    /^[\w./:@-]*$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
  return Object.entries(env)
    .map(([name, value]) => `${format === 'shell' ? 'export ' : ''}${name}=${quote(value)}\n`)
    .join('');
}

/** Writes `.meshdev/env/<service>.env` (0600) for every service, with the bound ports. */
export function writeEnvFiles(config: MeshConfig, portOf: OutboundPortOf): void {
  const dir = projectPath(config, 'env');
  ensurePrivateDir(dir);
  for (const service of config.services) {
    writePrivateFile(
      `${dir}/${service.name}.env`,
      renderEnv(serviceEnv(config, service.name, undefined, portOf), 'dotenv'),
    );
  }
}
