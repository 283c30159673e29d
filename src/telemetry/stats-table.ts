/** The compact stats table `meshdev up --no-ui` prints every `--summary-interval`. */
import type { StatsRow, StatsSnapshot } from './stats.js';

const HEADER = ['', 'req/s', 'p50', 'p90', 'p99', 'err%', 'flags'];

/** Renders totals, instances and edges of a snapshot as aligned text. */
export function formatStatsTable(snapshot: StatsSnapshot): string {
  const rows: string[][] = [HEADER];
  const add = (label: string, row: StatsRow) =>
    rows.push([
      label,
      row.rps.toFixed(1),
      ms(row.p50),
      ms(row.p90),
      ms(row.p99),
      row.errorPct.toFixed(1),
      Object.entries(row.flags)
        .map(([flag, count]) => `${flag}:${count}`)
        .join(' '),
    ]);
  add(`all (last ${Math.round(snapshot.windowMs / 1000)}s)`, snapshot.total);
  for (const row of snapshot.by.instance) add(`  ${row.key}`, row);
  for (const row of snapshot.by.edge) add(`  ${row.key}`, row);
  const widths = HEADER.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) =>
          i === 0 || i === row.length - 1 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The `--json` form: `{"event":"stats", ...snapshot}`. */
export function formatStatsJson(snapshot: StatsSnapshot): string {
  return JSON.stringify({ event: 'stats', ...snapshot });
}

function ms(value: number): string {
  return value >= 100 ? `${Math.round(value)}ms` : `${value.toFixed(1)}ms`;
}
