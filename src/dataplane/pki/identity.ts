/** SPIFFE identities: `spiffe://<trustDomain>/ns/<namespace>/sa/<service>`. */
import type { MeshSettings } from '../../config/model.js';

/** The SPIFFE ID of a service (or of the gateway) in this mesh. */
export function spiffeId(
  mesh: Pick<MeshSettings, 'trustDomain' | 'namespace'>,
  service: string,
): string {
  return `spiffe://${mesh.trustDomain}/ns/${mesh.namespace}/sa/${service}`;
}

/** The SPIFFE URIs in a certificate's `subjectaltname` string (as Node reports it). */
export function spiffeUris(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  return subjectAltName
    .split(/,\s*/)
    .filter((entry) => entry.startsWith('URI:spiffe://'))
    .map((entry) => entry.slice('URI:'.length));
}

/** The service name of a SPIFFE ID of this mesh, or undefined when it is foreign. */
export function serviceOf(
  mesh: Pick<MeshSettings, 'trustDomain' | 'namespace'>,
  id: string,
): string | undefined {
  const prefix = `spiffe://${mesh.trustDomain}/ns/${mesh.namespace}/sa/`;
  return id.startsWith(prefix) ? id.slice(prefix.length) : undefined;
}
