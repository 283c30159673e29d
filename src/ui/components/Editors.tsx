/** The fault editor (f) and the split editor (s), shown over the calls pane. */
import { Box, Text } from 'ink';
import { describeFault } from '../../dataplane/faults/describe.js';
import type { ServiceState } from '../../dataplane/runtime.js';
import type { SplitDraft, UiState } from '../view-model.js';
import { color, fit } from '../format.js';

export function FaultEditor({
  service,
  ui,
  width,
  height,
}: {
  service: ServiceState;
  ui: UiState;
  width: number;
  height: number;
}) {
  const runtime = service.faults.filter((fault) => fault.source === 'runtime');
  const kinds = [
    ['a', 'abort 503'],
    ['d', 'delay 1s'],
    ['r', 'reset'],
    ['b', 'bandwidth 8KiB/s'],
  ] as const;
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate-end">
        {fit(
          `faults on ${service.name} — a/d/r/b kind · 1–9 = 10–90%, 0 = 100% · ←→ ±5% · h header condition · enter add · ↑↓ x remove · esc close`,
          width,
        )}
      </Text>
      <Text wrap="truncate-end">
        {/* The percent first: it is what a key press changes, so it must never be cut. */}
        <Text color={color('magenta')} bold>{`${String(ui.fault.percent).padStart(3)}% `}</Text>
        {kinds.map(([key, label]) => (
          <Text key={key} inverse={ui.fault.kind === label.split(' ')[0]}>
            {` ${key} ${label} `}
          </Text>
        ))}
      </Text>
      <Text wrap="truncate-end" color={ui.fault.editing ? color('yellow') : undefined}>
        {fit(
          ui.fault.editing
            ? `when header ${ui.fault.condition}▏ (name=value, name~regex or name; enter keeps it, esc drops it)`
            : `when ${ui.fault.condition ? `header ${ui.fault.condition}` : 'every call'} (h to change)`,
          width,
        )}
      </Text>
      <Text bold>runtime faults (x removes the highlighted one)</Text>
      {runtime.length === 0 ? <Text color={color('gray')}>none</Text> : null}
      {runtime.map((fault, index) => (
        <Text key={fault.id} inverse={index === ui.fault.cursor} wrap="truncate-end">
          {fit(`${fault.id} ${describeFault(fault)}`, width)}
        </Text>
      ))}
    </Box>
  );
}

export function SplitEditor({
  draft,
  width,
  height,
}: {
  draft: SplitDraft;
  width: number;
  height: number;
}) {
  const bar = Math.max(10, width - 30);
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate-end">
        {fit(
          `split of ${draft.service} — ↑↓ version · ←→ move 5% · enter apply · esc cancel (total ${draft.weights.reduce((sum, entry) => sum + entry.weight, 0)}%)`,
          width,
        )}
      </Text>
      {draft.weights.map((entry, index) => (
        <Text key={entry.version} inverse={index === draft.cursor} wrap="truncate-end">
          {`${fit(entry.version, 10)} ${String(entry.weight).padStart(3)}% ${'█'.repeat(Math.round((entry.weight / 100) * bar))}`}
        </Text>
      ))}
    </Box>
  );
}
