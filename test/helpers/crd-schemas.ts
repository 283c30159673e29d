/**
 * Validators of vendored CRD spec schemas (`fixtures/schemas/<mesh>/<Kind>.<version>.spec.json`),
 * made strict: Kubernetes prunes unknown fields silently, so an exported typo would
 * vanish in a cluster; here it fails.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { expect } from 'vitest';
import type { Manifest } from '../../src/export/manifest.js';

function strict(schema: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties' && value && typeof value === 'object') {
      out.properties = Object.fromEntries(
        Object.entries(value).map(([name, child]) => [
          name,
          strict(child as Record<string, unknown>),
        ]),
      );
    } else if (Array.isArray(value)) {
      out[key] = value.map((item) =>
        item && typeof item === 'object' ? strict(item as Record<string, unknown>) : item,
      );
    } else if (value && typeof value === 'object') {
      out[key] = strict(value as Record<string, unknown>);
    } else out[key] = value;
  }
  if (
    schema.properties &&
    !schema['x-kubernetes-preserve-unknown-fields'] &&
    !schema.additionalProperties
  )
    out.additionalProperties = false;
  return out;
}

/** The CRDs of one mesh's folder, by kind. */
export function crdValidators(mesh: string): Map<string, ValidateFunction> {
  // The CRDs' formats (int32, uint32…) are Kubernetes'; their types and shapes are what count.
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const dir = path.join('fixtures/schemas', mesh);
  return new Map(
    readdirSync(dir)
      .filter((file) => file.endsWith('.spec.json'))
      .map((file) => [
        file.split('.')[0]!,
        ajv.compile(
          strict(JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Record<string, unknown>),
        ),
      ]),
  );
}

/** Asserts every manifest's spec passes its CRD's schema; returns them by `Kind/name`. */
export function acceptedBy(
  validators: Map<string, ValidateFunction>,
  manifests: readonly Manifest[],
): Map<string, Manifest> {
  for (const manifest of manifests) {
    const validate = validators.get(manifest.kind);
    expect(validate, manifest.kind).toBeDefined();
    const ok = validate!(manifest.spec);
    expect(ok ? [] : validate!.errors, `${manifest.kind}/${manifest.metadata.name}`).toEqual([]);
  }
  return new Map(manifests.map((m) => [`${m.kind}/${m.metadata.name}`, m]));
}
