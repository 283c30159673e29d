/** Every key of the dashboard. */
import { Box, Text } from 'ink';

export const KEYS: Array<[string, string]> = [
  ['↑ / ↓', 'select a service'],
  ['enter', 'details of the selected service (again to go back)'],
  ['esc', 'back to the main view'],
  ['f', 'fault editor: a/d/r/b kind, 1–9 → 10–90%, 0 → 100%, ←→ ±5%, enter add, ↑↓ + x remove'],
  ['s', 'split editor: ↑↓ version, ←→ move 5%, enter apply (always sums to 100)'],
  ['/', 'filter the calls by text (enter keeps it, esc clears it)'],
  ['p', 'pause / resume the calls pane'],
  ['t', 'topology: caller → callee edges'],
  ['c', "contracts: violations of the callee's OpenAPI spec by operation, coverage"],
  ['u', 'API usage by consumer: calls, errors, limited, quota, top endpoints'],
  ['l', 'logs of the selected service (when meshdev runs it)'],
  ['?', 'this help'],
  ['q, Ctrl-C', 'quit (calls in flight finish first)'],
];

export function Help({ height }: { height: number }) {
  return (
    <Box flexDirection="column" height={height} overflow="hidden">
      <Text bold>keys — ? or esc to go back</Text>
      {KEYS.map(([key, what]) => (
        <Text key={key} wrap="truncate-end">
          {`${key.padEnd(10)} ${what}`}
        </Text>
      ))}
      <Text> </Text>
      <Text wrap="truncate-end">
        Changes made here are runtime overlays: `meshdev status` lists them, `meshdev fault clear`
        removes them.
      </Text>
    </Box>
  );
}
