/**
 * Evaluates a check's `expect:` over the calls its scenario produced: error rate and
 * latency percentiles at the edge (or of one service), status counts, contract
 * violations, coverage, calls between two services, and the `run:` exit code. Each
 * expectation says what was measured and what was wanted.
 */
import type { Bound, CheckSpec } from '../config/model.js';
import type { CallRecord } from '../telemetry/call-record.js';
import { formatDuration } from '../config/units.js';

/** One evaluated expectation. */
export interface Expectation {
  /** `errorRate`, `p99 orders`, `status 5xx`, `violations`, `calls frontend->orders`… */
  name: string;
  passed: boolean;
  measured: string;
  wanted: string;
}

/** What a scenario measured, besides its calls. */
export interface ScenarioFacts {
  calls: readonly CallRecord[];
  /** Percent of declared (operation × response) pairs exercised, over every spec. */
  coveragePercent: number;
  /** The exit code of `run:`, when there was one (null: killed or timed out). */
  exitCode?: number | null;
}

/** Callers that stand for the outside world: the gateway's clients and the load generator. */
const EDGE_CALLERS = new Set(['gateway', 'load']);

/** A call the outside world made and got an answer to (a mirror's copy answered nobody). */
const isEdgeCall = (call: CallRecord) => EDGE_CALLERS.has(call.caller) && !call.mirror;

/** Evaluates every expectation of `check`. */
export function evaluate(check: CheckSpec, facts: ScenarioFacts): Expectation[] {
  const { expect } = check;
  const out: Expectation[] = [];
  const scope = (bound: Bound) =>
    bound.service === undefined
      ? facts.calls.filter(isEdgeCall)
      : facts.calls.filter((call) => call.service === bound.service);
  const label = (name: string, bound: Bound) => (bound.service ? `${name} ${bound.service}` : name);

  if (expect.errorRate) {
    const calls = scope(expect.errorRate);
    const errors = calls.filter((call) => call.status === 0 || call.status >= 500).length;
    const rate = calls.length === 0 ? 0 : (errors / calls.length) * 100;
    out.push(
      bounded(
        label('errorRate', expect.errorRate),
        rate,
        expect.errorRate,
        (n) => `${round(n)}%`,
        `${errors}/${calls.length} calls`,
      ),
    );
  }
  for (const key of ['p50', 'p99'] as const) {
    const bound = expect[key];
    if (!bound) continue;
    const durations = scope(bound).map((call) => call.durationMs);
    if (durations.length === 0) {
      out.push({
        name: label(key, bound),
        passed: false,
        measured: 'no calls',
        wanted: describeBound(bound, formatMs),
      });
      continue;
    }
    const value = percentile(durations, key === 'p50' ? 50 : 99);
    out.push(bounded(label(key, bound), value, bound, formatMs, `${durations.length} calls`));
  }
  for (const [status, bound] of Object.entries(expect.status ?? {})) {
    const edge = facts.calls.filter(isEdgeCall);
    const count = edge.filter((call) =>
      status.endsWith('xx')
        ? Math.floor(call.status / 100) === Number(status[0])
        : String(call.status) === status,
    ).length;
    out.push(bounded(`status ${status}`, count, bound, String));
  }
  const violations = facts.calls
    .flatMap((call) => call.violations ?? [])
    .filter((v) => v.severity === 'error');
  out.push({
    name: 'violations',
    passed: violations.length <= expect.violations,
    measured: `${violations.length} error-level contract violation${violations.length === 1 ? '' : 's'}`,
    wanted: `≤ ${expect.violations}`,
  });
  if (expect.coverage !== undefined) {
    out.push({
      name: 'coverage',
      passed: facts.coveragePercent >= expect.coverage,
      measured: `${round(facts.coveragePercent)}% of declared operation × status pairs`,
      wanted: `≥ ${expect.coverage}%`,
    });
  }
  for (const edge of expect.calls ?? []) {
    const count = facts.calls.filter(
      (call) => call.caller === edge.from && call.service === edge.to,
    ).length;
    out.push({
      name: `calls ${edge.from}->${edge.to}`,
      passed: count >= edge.min,
      measured: `${count} call${count === 1 ? '' : 's'}`,
      wanted: `≥ ${edge.min}`,
    });
  }
  if (check.run !== undefined) {
    out.push({
      name: 'run exit code',
      passed: facts.exitCode === expect.exitCode,
      measured: facts.exitCode === null ? 'killed (timed out)' : `exit ${facts.exitCode}`,
      wanted: `exit ${expect.exitCode}`,
    });
  }
  return out;
}

function bounded(
  name: string,
  value: number,
  bound: Pick<Bound, 'min' | 'max'>,
  format: (n: number) => string,
  context?: string,
): Expectation {
  const passed =
    (bound.min === undefined || value >= bound.min) &&
    (bound.max === undefined || value <= bound.max);
  return {
    name,
    passed,
    measured: context ? `${format(value)} (${context})` : format(value),
    wanted: describeBound(bound, format),
  };
}

function describeBound(bound: Pick<Bound, 'min' | 'max'>, format: (n: number) => string): string {
  if (bound.min !== undefined && bound.min === bound.max) return `= ${format(bound.min)}`;
  const parts = [];
  if (bound.min !== undefined) parts.push(`≥ ${format(bound.min)}`);
  if (bound.max !== undefined) parts.push(`≤ ${format(bound.max)}`);
  return parts.join(' and ') || 'anything';
}

/** Nearest-rank percentile. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

function formatMs(ms: number): string {
  return formatDuration(Math.round(ms));
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
