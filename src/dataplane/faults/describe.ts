/** One line about a fault, as `meshdev fault ls`, `status` and the dashboard show it. */
import type { FaultRule } from '../../config/model.js';
import { formatDuration } from '../../config/units.js';

/** A fault as the runtime reports it (file or runtime, maybe expiring). */
export type DescribedFault = Pick<
  FaultRule,
  'match' | 'delay' | 'abort' | 'reset' | 'bandwidth'
> & { expiresAt?: number };

/** `POST /charges: delay 2s 10% abort 503 5% expires 14:02:31` */
export function describeFault(fault: DescribedFault): string {
  const parts: string[] = [];
  const { match, delay, abort, reset, bandwidth } = fault;
  if (match?.methods || match?.path)
    parts.push(`${`${match.methods?.join('|') ?? ''} ${match.path ?? ''}`.trim()}:`);
  if (delay) {
    const length =
      'fixedMs' in delay
        ? formatDuration(delay.fixedMs)
        : `p50 ${delay.p50Ms}ms p99 ${delay.p99Ms}ms`;
    parts.push(`delay ${length} ${delay.percent}%`);
  }
  if (abort) parts.push(`abort ${abort.status} ${abort.percent}%`);
  if (reset) parts.push(`reset ${reset.percent}%`);
  if (bandwidth) parts.push(`bandwidth ${bandwidth.bytesPerSecond}B/s ${bandwidth.percent}%`);
  if (fault.expiresAt)
    parts.push(`expires ${new Date(fault.expiresAt).toTimeString().slice(0, 8)}`);
  return parts.join(' ');
}
