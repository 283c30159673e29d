/**
 * Consul's own config-entry form of what `exportConsul` makes for consul-k8s: the JSON
 * that `consul config write` takes (one entry per file) on a mesh without Kubernetes.
 * The CRD spec's camelCase fields are the entry's PascalCase ones (`http` → `HTTP`);
 * a ServiceIntentions' destination is the entry's `Name`.
 */
import type { Manifest } from './manifest.js';

/** A config entry as `consul config write` reads it. */
export type ConfigEntry = Record<string, unknown> & { Kind: string; Name: string };

/** Keys whose children are names the user chose (subset names), not field names. */
const NAMED_CHILDREN = new Set(['subsets', 'meta']);

/** The config entry of one consul-k8s resource. */
export function configEntry(manifest: Manifest): ConfigEntry {
  const kind = manifest.kind.replace(/(?<!^)([A-Z])/g, '-$1').toLowerCase();
  const { destination, ...spec } = manifest.spec as Record<string, unknown> & {
    destination?: { name: string };
  };
  const body = manifest.kind === 'ServiceIntentions' ? spec : manifest.spec;
  const name = manifest.kind === 'ServiceIntentions' ? destination!.name : manifest.metadata.name;
  return { Kind: kind, Name: name, ...(pascal(body) as Record<string, unknown>) };
}

function pascal(value: unknown, named = false): unknown {
  if (Array.isArray(value)) return value.map((item) => pascal(item));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      named ? key : fieldName(key),
      pascal(inner, NAMED_CHILDREN.has(key)),
    ]),
  );
}

/** `pathPrefix` → `PathPrefix`; `http` → `HTTP`. */
function fieldName(key: string): string {
  return key === 'http' ? 'HTTP' : key.charAt(0).toUpperCase() + key.slice(1);
}
