/** The top two lines: mesh, uptime, req/s, error %, mTLS mode, config status and overlays. */
import { Box, Text } from 'ink';
import type { DashboardFrame } from '../source.js';
import { color, fit, pct } from '../format.js';

export function Header({
  frame,
  note,
  width,
}: {
  frame: DashboardFrame;
  note?: string;
  width: number;
}) {
  const seconds = Math.floor((frame.stats.at - frame.startedAt) / 1000);
  const uptime =
    seconds >= 3600
      ? `${Math.floor(seconds / 3600)}h${Math.floor((seconds % 3600) / 60)}m`
      : `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  const { total } = frame.stats;
  const config = frame.disconnected
    ? `DISCONNECTED: ${frame.disconnected}`
    : frame.config.status === 'invalid'
      ? `config INVALID: ${frame.config.message.split('\n')[0]}`
      : frame.config.status === 'reloaded'
        ? `config reloaded at ${new Date(frame.config.at).toTimeString().slice(0, 8)}`
        : 'config ok';
  const line = `meshdev · ${frame.mesh} · up ${uptime} · ${total.rps.toFixed(1)} req/s · err ${pct(total.errorPct)} · mTLS ${frame.mtls} · ${config}${overlays(frame)}`;
  return (
    <Box flexDirection="column">
      <Text
        bold
        color={
          frame.config.status === 'invalid' || frame.disconnected ? color('red') : color('cyan')
        }
        wrap="truncate-end"
      >
        {fit(line, width)}
      </Text>
      <Text color={color('gray')} wrap="truncate-end">
        {fit(
          note
            ? `✎ ${note}`
            : '↑↓ ⏎ details · f faults · s split · / filter · t topology · c contracts · u usage · l logs · ? help · q quit',
          width,
        )}
      </Text>
    </Box>
  );
}

/** ` · runtime: 2 faults, 1 split` while runtime overlays are in force, else nothing. */
function overlays(frame: DashboardFrame): string {
  const faults = frame.services.reduce(
    (count, service) => count + service.faults.filter((f) => f.source === 'runtime').length,
    0,
  );
  const splits = frame.services.filter((service) => service.split?.source === 'runtime').length;
  const routes = frame.services.reduce((count, service) => count + service.routes.length, 0);
  const parts = [
    faults ? `${faults} fault${faults === 1 ? '' : 's'}` : '',
    splits ? `${splits} split${splits === 1 ? '' : 's'}` : '',
    routes ? `${routes} route${routes === 1 ? '' : 's'}` : '',
  ].filter(Boolean);
  return parts.length ? ` · runtime: ${parts.join(', ')}` : '';
}
