/**
 * API usage: by endpoint (service, method, route template) and by caller. Narrow panes
 * drop number columns (calls, then p99) before they cut a name, and cut the service
 * name before the method and route, so `GET` and `POST` rows never look alike.
 */
import { Box, Text } from 'ink';
import type { StatsSnapshot } from '../../telemetry/stats.js';
import { fit, ms, pct } from '../format.js';

/** A number column: its title and how a row's stats fill it. */
interface NumberColumn {
  title: string;
  cell(row: StatsSnapshot['by']['route'][number]): string;
}

const CELL = 6;
const COLUMNS: Record<'calls' | 'rps' | 'p99' | 'err', NumberColumn> = {
  calls: { title: 'calls', cell: (row) => String(row.requests) },
  rps: { title: 'req/s', cell: (row) => row.rps.toFixed(1) },
  p99: { title: 'p99', cell: (row) => ms(row.p99) },
  err: { title: 'err%', cell: (row) => pct(row.errorPct) },
};
/** Most wanted first: what is kept when the pane is narrow. */
const PRIORITY = ['rps', 'err', 'p99', 'calls'] as const;
const DISPLAY_ORDER = ['calls', 'rps', 'p99', 'err'] as const;
/** The narrowest endpoint label worth showing. */
const MIN_LABEL = 19;

export function UsagePane({
  stats,
  width,
  height,
}: {
  stats: StatsSnapshot;
  width: number;
  height: number;
}) {
  const endpoints = stats.by.route.slice(0, Math.max(0, Math.floor((height - 2) * 0.65)));
  const callers = new Map<string, number>();
  for (const edge of stats.by.edge) {
    const caller = edge.key.split('→')[0]!;
    callers.set(caller, (callers.get(caller) ?? 0) + edge.rps);
  }
  const byCaller = [...callers]
    .sort((a, b) => b[1] - a[1])
    .slice(0, Math.max(0, height - 2 - endpoints.length - 1));
  // Names first: a column of numbers goes before an endpoint name is cut (up to 32 chars).
  const longest = Math.max(0, ...endpoints.map((endpoint) => endpoint.key.length)) + 1;
  const wanted = Math.max(MIN_LABEL, Math.min(longest, 32));
  const fitting = Math.max(1, Math.floor((width - wanted) / (CELL + 1)));
  const kept = new Set(PRIORITY.slice(0, fitting));
  const shown = DISPLAY_ORDER.filter((name) => kept.has(name)).map((name) => COLUMNS[name]);
  const numbers = (cells: string[]) => cells.map((cell) => cell.padStart(CELL)).join(' ');
  const labelWidth = Math.max(8, width - shown.length * (CELL + 1));
  const line = (label: string, cells: string[]) =>
    fit(`${label.padEnd(labelWidth)}${numbers(cells)}`, width);
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate-end">
        {line(
          fit('API usage', labelWidth - 1),
          shown.map((column) => column.title),
        )}
      </Text>
      {endpoints.map((endpoint) => (
        <Text key={endpoint.key} wrap="truncate-end">
          {line(
            fitEndpoint(endpoint.key, labelWidth - 1),
            shown.map((column) => column.cell(endpoint)),
          )}
        </Text>
      ))}
      <Text bold wrap="truncate-end">
        {line('by caller', [COLUMNS.rps.title])}
      </Text>
      {byCaller.map(([caller, rps]) => (
        <Text key={caller} wrap="truncate-end">
          {line(fit(caller, labelWidth - 1), [rps.toFixed(1)])}
        </Text>
      ))}
    </Box>
  );
}

/** `payments POST /charges` in `width`: the service is cut first, then the route. */
export function fitEndpoint(key: string, width: number): string {
  if (key.length <= width) return key;
  const [service = '', method = '', ...route] = key.split(' ');
  const rest = `${method} ${route.join(' ')}`;
  const room = width - rest.length - 1;
  if (room >= 4) return `${fit(service, room)} ${rest}`;
  return fit(`${fit(service, 4)} ${rest}`, width);
}
