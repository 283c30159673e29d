/** Details of the selected service: instances, identity, split, faults, breaker, errors. */
import { Box, Text } from 'ink';
import { describeFault } from '../../dataplane/faults/describe.js';
import type { DashboardFrame } from '../source.js';
import { color, fit, instanceLabel, ms, sparkline } from '../format.js';

export function Details({
  frame,
  service,
  width,
  height,
}: {
  frame: DashboardFrame;
  service: string;
  width: number;
  height: number;
}) {
  const state = frame.services.find((s) => s.name === service);
  if (!state) return <Text>no service selected</Text>;
  const calls = frame.calls.filter((call) => call.service === service);
  const errors = calls.filter((call) => call.status === 0 || call.status >= 500).slice(0, 5);
  const lines: Array<{ text: string; tone?: string }> = [
    { text: `${service} — details · enter or esc to go back`, tone: 'bold' },
    { text: `identity  ${frame.spiffe(service)}` },
    ...frame.instances
      .filter((instance) => instance.service === service)
      .map((instance) => ({
        text: `instance  ${instanceLabel(instance.service, instance.version)}  ${instance.state}  inbound 127.0.0.1:${instance.inboundPort ?? '?'}  → ${instance.port ? `127.0.0.1:${instance.port}` : '(simulated)'}  breaker ${state.breakers[instance.version] ?? 'closed'}`,
      })),
    {
      text: `split     ${
        state.split
          ? `${Object.entries(state.split.weights)
              .map(([v, w]) => `${v}=${w}`)
              .join(' ')} (${state.split.source})`
          : '—'
      }`,
    },
    ...(state.faults.length === 0
      ? [{ text: 'faults    none' }]
      : state.faults.map((fault) => ({
          text: `fault     ${fault.id} (${fault.source}) ${describeFault(fault)}`,
        }))),
    {
      text: `latency   ${sparkline(
        calls
          .slice(0, 40)
          .reverse()
          .map((call) => call.durationMs),
      )}  (last ${Math.min(40, calls.length)} calls)`,
    },
    { text: 'recent errors', tone: 'bold' },
    ...(errors.length === 0
      ? [{ text: '  none' }]
      : errors.map((call) => ({
          text: `  ${new Date(call.time).toTimeString().slice(0, 8)} ${call.caller}→${instanceLabel(call.service, call.version)} ${call.method} ${call.path} ${call.status || 'RST'} ${ms(call.durationMs)} ${call.flags.join(',')}`,
          tone: 'red',
        }))),
  ];
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      {lines.slice(0, height).map((line, index) => (
        <Text
          key={index}
          bold={line.tone === 'bold'}
          color={line.tone === 'red' ? color('red') : undefined}
          wrap="truncate-end"
        >
          {fit(line.text, width)}
        </Text>
      ))}
    </Box>
  );
}
