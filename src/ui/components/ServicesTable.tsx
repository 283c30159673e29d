/** The services table: one row per service, the selected one highlighted. */
import { Box, Text } from 'ink';
import type { DashboardFrame } from '../source.js';
import { color, fit, ms, pct } from '../format.js';

/** The widest a column grows (names and splits can be long); narrower when content is. */
const MAX_WIDTHS = [18, 12, 12, 7, 8, 8, 7, 16, 7, 9] as const;
const TITLES = [
  'service',
  'versions',
  'state',
  'req/s',
  'p50',
  'p99',
  'err%',
  'split',
  'faults',
  'breaker',
];

/** The cells of one service row. */
export function serviceRow(frame: DashboardFrame, name: string): string[] {
  const service = frame.services.find((s) => s.name === name)!;
  const stats = frame.stats.by.service.find((row) => row.key === name);
  const states = [
    ...new Set(frame.instances.filter((i) => i.service === name).map((i) => i.state)),
  ];
  const split = service.split
    ? Object.entries(service.split.weights)
        .map(([v, w]) => `${v}:${w}`)
        .join(' ')
    : '—';
  const open = Object.values(service.breakers).filter((state) => state !== 'closed');
  return [
    name,
    service.versions.join(',') === 'default' ? '—' : service.versions.join(','),
    states.join('/'),
    stats ? stats.rps.toFixed(1) : '0',
    stats ? ms(stats.p50) : '—',
    stats ? ms(stats.p99) : '—',
    stats ? pct(stats.errorPct) : '—',
    `${split}${service.split?.source === 'runtime' ? '*' : ''}`,
    String(service.faults.length || '—'),
    open.length ? open.join(',') : 'closed',
  ];
}

export function ServicesTable({
  frame,
  selected,
  width,
  height,
}: {
  frame: DashboardFrame;
  selected: number;
  width: number;
  height: number;
}) {
  const visible = frame.services.slice(0, Math.max(0, height - 1));
  const rows = visible.map((service) => serviceRow(frame, service.name));
  // Columns as wide as their content (capped), so 80 columns show faults and breakers too.
  const widths = TITLES.map((title, i) =>
    Math.min(MAX_WIDTHS[i]!, Math.max(title.length, ...rows.map((cells) => cells[i]!.length))),
  );
  const total = widths.reduce((sum, w) => sum + w, 0);
  const gap = total + 2 * (widths.length - 1) <= width ? '  ' : ' ';
  const line = (cells: string[]) =>
    fit(cells.map((cell, i) => fit(cell, widths[i]!)).join(gap), width);
  return (
    <Box flexDirection="column" height={height} overflow="hidden">
      <Text bold wrap="truncate-end">
        {line(TITLES)}
      </Text>
      {visible.map((service, index) => {
        const cells = rows[index]!;
        const active = index === selected;
        return (
          <Text
            key={service.name}
            inverse={active}
            color={cells[2]!.includes('crash') ? color('red') : undefined}
            wrap="truncate-end"
          >
            {line(cells)}
          </Text>
        );
      })}
    </Box>
  );
}
