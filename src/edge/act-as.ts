/** Requests the mesh itself sends (`load:`, `checks:`) acting as a consumer (`as: alice`). */
import type { MeshConfig } from '../config/model.js';

/** The header that carries `consumer`'s first API key, or none without `as:`. */
export function actAsHeaders(
  config: MeshConfig,
  consumer: string | undefined,
): Record<string, string> {
  if (consumer === undefined) return {};
  const key = config.consumers.find((c) => c.name === consumer)?.keys[0];
  const header = config.gateway?.auth.apiKeys.header ?? 'x-api-key';
  return key === undefined ? {} : { [header.toLowerCase()]: key };
}
