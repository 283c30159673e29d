/**
 * The contracts view: for the selected service (all services when none has violations),
 * violations by operation with the last offending call and its payload excerpts, then
 * each spec's coverage of declared operation × status pairs.
 */
import { Box, Text } from 'ink';
import type { ContractsSnapshot } from '../../telemetry/contract-ledger.js';
import { formatViolation } from '../../telemetry/access-log.js';
import { displayPath } from '../../config/display-path.js';
import { color, fit } from '../format.js';

/** The lines of the view, most violations first. */
export function contractLines(
  contracts: ContractsSnapshot | undefined,
  service: string | undefined,
): Array<{ text: string; tone?: 'red' | 'yellow' | 'dim' }> {
  if (!contracts || contracts.mode === 'off') {
    return [{ text: 'contracts are off: give a service `spec:` (OpenAPI) to check its calls' }];
  }
  const lines: Array<{ text: string; tone?: 'red' | 'yellow' | 'dim' }> = [];
  const mine = contracts.operations.filter((op) => op.service === service);
  const shown = mine.length > 0 ? mine : contracts.operations;
  if (shown.length === 0)
    lines.push({ text: 'no calls to a service with a spec yet', tone: 'dim' });
  for (const op of shown) {
    const tone = op.errors > 0 ? 'red' : op.warnings > 0 ? 'yellow' : undefined;
    lines.push({
      text: `${op.service} ${op.operation}  ${op.calls} calls  ${op.errors} errors  ${op.warnings} warnings`,
      tone,
    });
    if (!op.last) continue;
    const when = new Date(op.last.time).toTimeString().slice(0, 8);
    lines.push({
      text: `  last: ${when} ${op.last.caller} ${op.last.method} ${op.last.path} → ${op.last.status}`,
      tone: 'dim',
    });
    for (const violation of op.last.violations.slice(0, 3))
      lines.push({ text: `    ${formatViolation(violation)}`, tone });
  }
  const bodies = bodyCheckLine(contracts);
  if (bodies) lines.push(bodies);
  for (const spec of contracts.coverage) {
    lines.push({
      text: `coverage ${displayPath(spec.file)}: ${spec.exercised}/${spec.declared} (${spec.percent}%)${spec.missing.length ? ` · not yet: ${spec.missing.slice(0, 3).join(', ')}${spec.missing.length > 3 ? '…' : ''}` : ''}`,
      tone: 'dim',
    });
  }
  return lines;
}

/** Where `report` mode checks response bodies; yellow when not where it should. */
function bodyCheckLine(
  contracts: ContractsSnapshot,
): { text: string; tone?: 'yellow' | 'dim' } | undefined {
  const checks = contracts.bodyChecks;
  if (contracts.mode !== 'report' || checks.worker === 'not started') return undefined;
  if (checks.worker !== 'running')
    return {
      text: `response bodies checked on the serving thread: ${checks.worker}`,
      tone: 'yellow',
    };
  const here =
    checks.checkedHere > 0 ? `, ${checks.checkedHere} on the serving thread (worker behind)` : '';
  return {
    text: `response bodies checked in a worker thread: ${checks.checkedInWorker}${here}`,
    tone: checks.checkedHere > 0 ? 'yellow' : 'dim',
  };
}

/** The contracts view. */
export function ContractsPane({
  contracts,
  service,
  width,
  height,
}: {
  contracts: ContractsSnapshot | undefined;
  service: string | undefined;
  width: number;
  height: number;
}) {
  const lines = contractLines(contracts, service).slice(0, Math.max(0, height - 1));
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate-end">
        {fit(
          `contracts (${contracts?.mode ?? 'off'}) — violations by operation · c or esc to go back`,
          width,
        )}
      </Text>
      {lines.map((line, index) => (
        <Text
          key={index}
          color={
            line.tone === 'red'
              ? color('red')
              : line.tone === 'yellow'
                ? color('yellow')
                : undefined
          }
          dimColor={line.tone === 'dim'}
          wrap="truncate-end"
        >
          {fit(line.text, width)}
        </Text>
      ))}
    </Box>
  );
}
