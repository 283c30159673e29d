/** One line about a fault, as `meshdev fault ls`, `status` and the dashboard show it. */
import type { FaultRule, Match } from '../../config/model.js';
import type { FaultKind } from './action.js';
import { FAULT_ACTIONS } from './registry.js';

/** A fault as the runtime reports it (file or runtime, maybe expiring). */
export type DescribedFault = Pick<FaultRule, 'match' | FaultKind> & { expiresAt?: number };

/** `GET /charges end-user=jason: delay 2s 10% abort 503 5% expires 14:02:31` */
export function describeFault(fault: DescribedFault): string {
  const parts: string[] = [];
  const condition = describeMatch(fault.match);
  if (condition) parts.push(`${condition}:`);
  for (const action of FAULT_ACTIONS) {
    const settings = fault[action.kind];
    if (settings) parts.push(action.describe(settings as never));
  }
  if (fault.expiresAt)
    parts.push(`expires ${new Date(fault.expiresAt).toTimeString().slice(0, 8)}`);
  return parts.join(' ');
}

/** `GET|HEAD /items/* end-user=jason x-debug present x-id~^a` — every condition of a match. */
export function describeMatch(match: Match | undefined): string {
  if (!match) return '';
  const headers = Object.entries(match.headers ?? {}).map(([name, rule]) =>
    rule.regex !== undefined
      ? `${name}~${rule.regex}`
      : rule.present !== undefined
        ? `${name} ${rule.present ? 'present' : 'absent'}`
        : `${name}=${rule.exact ?? ''}`,
  );
  return [match.methods?.join('|'), match.path, ...headers].filter(Boolean).join(' ');
}
