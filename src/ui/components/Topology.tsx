/** The topology: caller → callee edges as a tree, with req/s, p99 and error %. */
import { Box, Text } from 'ink';
import type { StatsRow, StatsSnapshot } from '../../telemetry/stats.js';
import { color, fit, ms, pct } from '../format.js';

/** Lines of the edge tree, starting from callers nobody calls (load, gateway, …). */
export function topologyLines(stats: StatsSnapshot): Array<{ text: string; errorPct: number }> {
  const edges = new Map<string, StatsRow[]>();
  const callees = new Set<string>();
  for (const edge of stats.by.edge) {
    const [caller, callee] = edge.key.split('→') as [string, string];
    edges.set(caller, [...(edges.get(caller) ?? []), edge]);
    callees.add(callee);
  }
  const roots = [...edges.keys()].filter((caller) => !callees.has(caller)).sort();
  const lines: Array<{ text: string; errorPct: number }> = [];
  const walk = (node: string, prefix: string, seen: Set<string>) => {
    const children = (edges.get(node) ?? []).sort((a, b) => a.key.localeCompare(b.key));
    children.forEach((edge, index) => {
      const last = index === children.length - 1;
      const callee = edge.key.split('→')[1]!;
      lines.push({
        text: `${prefix}${last ? '└─' : '├─'} ${callee}  ${edge.rps.toFixed(1)} req/s  p99 ${ms(edge.p99)}  err ${pct(edge.errorPct)}`,
        errorPct: edge.errorPct,
      });
      if (!seen.has(callee))
        walk(callee, `${prefix}${last ? '   ' : '│  '}`, new Set([...seen, callee]));
    });
  };
  for (const root of roots) {
    lines.push({ text: root, errorPct: 0 });
    walk(root, '', new Set([root]));
  }
  return lines;
}

export function Topology({
  stats,
  width,
  height,
}: {
  stats: StatsSnapshot;
  width: number;
  height: number;
}) {
  const lines = topologyLines(stats).slice(0, Math.max(0, height - 1));
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate-end">
        {fit('topology — caller → callee (last minute) · t or esc to go back', width)}
      </Text>
      {lines.length === 0 ? <Text>no calls yet</Text> : null}
      {lines.map((line, index) => (
        <Text key={index} color={line.errorPct > 1 ? color('red') : undefined} wrap="truncate-end">
          {fit(line.text, width)}
        </Text>
      ))}
    </Box>
  );
}
