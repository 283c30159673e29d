/** Live calls, newest first: status coloured, injected faults marked with ⚡, contract violations with `CV n`. */
import { Box, Text } from 'ink';
import type { CallRecord } from '../../telemetry/call-record.js';
import { color, fit, INJECTED, instanceLabel, ms, statusColor } from '../format.js';
import { flagText } from '../../telemetry/access-log.js';

/** The text of one call line (also what `/` filters on). */
export function callText(call: CallRecord): string {
  const time = new Date(call.time).toTimeString().slice(0, 8);
  const status = call.status === 0 ? 'RST' : String(call.status);
  return `${time} ${call.caller}→${instanceLabel(call.service, call.version)} ${call.method} ${call.path} ${status} ${ms(call.durationMs)} ${flagText(call)}`;
}

export function CallsPane({
  calls,
  filter,
  paused,
  width,
  height,
}: {
  calls: CallRecord[];
  filter: string;
  paused: boolean;
  width: number;
  height: number;
}) {
  const shown = calls
    .filter((call) => !filter || callText(call).includes(filter))
    .slice(0, Math.max(0, height - 1));
  const title = `live calls${paused ? ' (paused — p to resume)' : ''}${filter ? ` · filter "${filter}"` : ''}`;
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate-end">
        {fit(title, width)}
      </Text>
      {shown.map((call, index) => {
        const injected = call.flags.some((flag) => INJECTED.has(flag));
        const time = new Date(call.time).toTimeString().slice(0, 8);
        const head = `${time} ${call.caller}→${instanceLabel(call.service, call.version)} ${call.method} ${call.path}`;
        const tail = ` ${ms(call.durationMs)} ${flagText(call)}`;
        const status = call.status === 0 ? 'RST' : String(call.status);
        const room = Math.max(0, width - status.length - tail.length - 3);
        return (
          <Text key={`${call.requestId}-${index}`} wrap="truncate-end">
            <Text color={injected ? color('magenta') : undefined}>{injected ? '⚡' : ' '}</Text>
            {fit(head, room)} <Text color={statusColor(call.status)}>{status}</Text>
            <Text color={injected ? color('magenta') : undefined}>{tail}</Text>
          </Text>
        );
      })}
    </Box>
  );
}
