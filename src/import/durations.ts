/** Durations as other meshes write them, read into meshdev's form. */
import { formatDuration } from '../config/units.js';

const GO_PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
const GO_UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * A Go / protobuf duration (`1.5s`, `1m30s`, `250ms`) as meshdev writes one (`1500ms`,
 * `90s`, `250ms`); undefined when it is not one.
 */
export function meshDuration(text: unknown): string | undefined {
  if (typeof text !== 'string' || !/^((\d+(\.\d+)?)(ns|us|µs|ms|s|m|h))+$/.test(text.trim()))
    return undefined;
  let ms = 0;
  for (const [, amount, unit] of text.trim().matchAll(GO_PART))
    ms += Number(amount) * GO_UNIT_MS[unit!]!;
  return formatDuration(Math.round(ms));
}
