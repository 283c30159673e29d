/** The usage table `meshdev usage` prints and the dashboard's consumer view shows. */
import type { UsageReport } from '../controlplane/controller.js';

/** The text table: one row per consumer, then each one's top endpoints. */
export function usageTable(
  rows: readonly UsageReport[],
  now: number,
  bar?: (percent: number) => string,
): string {
  if (rows.length === 0) return 'no consumers in the config (add a consumers: section)';
  const header = [
    'consumer',
    'plan',
    'calls',
    'req/s',
    '2xx/3xx',
    '4xx',
    '5xx',
    'limited',
    'quota',
    'last seen',
  ];
  const table = rows.map((row) => [
    row.consumer,
    row.plan ?? '—',
    String(row.calls),
    row.rps.toFixed(2),
    String(row.ok),
    String(row.clientErrors),
    String(row.serverErrors),
    String(row.limited),
    row.quota
      ? `${bar ? `${bar(row.quota.percent)} ` : ''}${row.quota.used}/${row.quota.limit} (${row.quota.percent}%)`
      : '—',
    row.lastSeen ? `${Math.max(0, Math.round((now - row.lastSeen) / 1000))}s ago` : 'never',
  ]);
  const widths = header.map((_, i) =>
    Math.max(header[i]!.length, ...table.map((r) => r[i]!.length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const out = [line(header), ...table.map(line)];
  for (const row of rows) {
    if (row.topEndpoints.length === 0) continue;
    out.push('', `${row.consumer}: top endpoints`);
    for (const endpoint of row.topEndpoints)
      out.push(`  ${String(endpoint.calls).padStart(6)}  ${endpoint.endpoint}`);
  }
  return out.join('\n');
}
