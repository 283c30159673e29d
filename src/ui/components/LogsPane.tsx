/** The output of the selected service, when meshdev runs it. */
import { Box, Text } from 'ink';
import { fit } from '../format.js';

export function LogsPane({
  service,
  lines,
  width,
  height,
}: {
  service: string;
  lines: string[];
  width: number;
  height: number;
}) {
  const shown = lines.slice(-Math.max(0, height - 1));
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate-end">
        {fit(`logs of ${service} · l or esc to go back`, width)}
      </Text>
      {lines.length === 0 ? (
        <Text>
          {fit(
            `no output: meshdev captures the output of services it starts (those with a command)`,
            width,
          )}
        </Text>
      ) : null}
      {shown.map((line, index) => (
        <Text key={index} wrap="truncate-end">
          {fit(line, width)}
        </Text>
      ))}
    </Box>
  );
}
