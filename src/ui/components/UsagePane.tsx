/** API usage: by endpoint (method + route template) and by caller. */
import { Box, Text } from 'ink';
import type { StatsSnapshot } from '../../telemetry/stats.js';
import { fit, ms, pct } from '../format.js';

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
  const row = (label: string, rest: string) =>
    fit(`${fit(label, Math.max(8, width - rest.length - 1))} ${rest}`, width);
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate-end">
        {fit('API usage — endpoint         calls  req/s    p99   err%', width)}
      </Text>
      {endpoints.map((endpoint) => (
        <Text key={endpoint.key} wrap="truncate-end">
          {row(
            endpoint.key,
            `${String(endpoint.requests).padStart(6)} ${endpoint.rps.toFixed(1).padStart(6)} ${ms(endpoint.p99).padStart(6)} ${pct(endpoint.errorPct).padStart(6)}`,
          )}
        </Text>
      ))}
      <Text bold wrap="truncate-end">
        {fit('by caller                           req/s', width)}
      </Text>
      {byCaller.map(([caller, rps]) => (
        <Text key={caller} wrap="truncate-end">
          {row(caller, rps.toFixed(1).padStart(6))}
        </Text>
      ))}
    </Box>
  );
}
