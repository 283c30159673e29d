/**
 * API usage by consumer (key `u`): calls, req/s, 2xx/4xx/5xx, limited (429), quota used
 * with a bar, last seen — then each consumer's top endpoints. The same numbers as
 * `meshdev usage`.
 */
import { Box, Text } from 'ink';
import type { UsageReport } from '../../controlplane/controller.js';
import { usageTable } from '../../commands/usage-table.js';
import { color, fit } from '../format.js';

/** `████░░░░░░ 40%` */
export function quotaBar(percent: number, cells = 10): string {
  const full = Math.max(0, Math.min(cells, Math.round((percent / 100) * cells)));
  return `${'█'.repeat(full)}${'░'.repeat(cells - full)}`;
}

export function ConsumersPane({
  usage,
  width,
  height,
}: {
  usage: readonly UsageReport[] | undefined;
  width: number;
  height: number;
}) {
  const lines = usage ? usageTable(usage, Date.now(), quotaBar).split('\n') : ['no consumers'];
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate-end">
        {fit('API usage by consumer · u or esc to go back', width)}
      </Text>
      {lines.slice(0, Math.max(0, height - 1)).map((line, index) => (
        <Text key={index} bold={index === 0} wrap="truncate-end">
          {fit(line, width)}
        </Text>
      ))}
      {usage?.some((row) => row.limited > 0) ? (
        <Text color={color('yellow')} wrap="truncate-end">
          {fit("limited: calls refused by the consumer's plan (429, flag RL)", width)}
        </Text>
      ) : null}
    </Box>
  );
}
