/** The environment a service's process gets: who it is and where its upstreams are. */
import type { MeshConfig } from '../config/model.js';

/** Variables for `service` (and one version of it, when given). */
export function serviceEnv(
  config: MeshConfig,
  service: string,
  version?: string,
): Record<string, string> {
  const spec = config.services.find((s) => s.name === service);
  if (!spec) return {};
  const instance = spec.instances.find((i) => i.version === (version ?? i.version));
  const env: Record<string, string> = { MESH_SERVICE: service };
  if (spec.versioned && instance) env.MESH_VERSION = instance.version;
  if (instance?.port !== undefined) env.PORT = String(instance.port);
  for (const outbound of config.outbound) {
    if (outbound.caller === service) env[outbound.envVar] = `http://127.0.0.1:${outbound.port}`;
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
