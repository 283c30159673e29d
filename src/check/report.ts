/**
 * The reports of a `meshdev check` run: the human summary (stderr), `--json FILE` and
 * `--junit FILE` (one `testsuite` per check; one `testcase` per expectation and per
 * caller→callee operation contract, as GitLab and the GitHub test reporters read them).
 */
import { displayPath } from '../config/display-path.js';
import type { SpecCoverage } from '../telemetry/contract-ledger.js';
import { formatViolation } from '../telemetry/access-log.js';
import type { ContractCase, ScenarioResult } from './scenario.js';

/** Everything one run found. */
export interface CheckRun {
  config: string;
  seed: number;
  results: ScenarioResult[];
  /** Coverage over the whole run. */
  coverage: SpecCoverage[];
}

/** True when every check passed. */
export function passed(run: CheckRun): boolean {
  return run.results.every((result) => result.passed);
}

/** A contract case fails when it has error-level violations and its check's `violations` expectation failed. */
function caseFailed(result: ScenarioResult, entry: ContractCase): boolean {
  const tolerated = result.expectations.find((e) => e.name === 'violations')?.passed ?? true;
  return !tolerated && entry.violations.some((v) => v.severity === 'error');
}

/** The human summary. */
export function textReport(run: CheckRun): string {
  const lines: string[] = [];
  for (const result of run.results) {
    lines.push(
      `${result.passed ? 'PASS' : 'FAIL'} ${result.name} (${(result.durationMs / 1000).toFixed(1)}s, ${result.calls.length} calls)`,
    );
    for (const e of result.expectations) {
      lines.push(`  ${e.passed ? '✓' : '✗'} ${e.name}: ${e.measured} (wanted ${e.wanted})`);
    }
    for (const entry of result.contracts) {
      if (entry.violations.length === 0) continue;
      lines.push(
        `  ${caseFailed(result, entry) ? '✗' : '!'} ${entry.caller}->${entry.service} ${entry.operation}: ${entry.violations.length} violation(s)`,
      );
      for (const v of entry.violations.slice(0, 10))
        lines.push(`      ${v.method} ${v.path} → ${v.status}: ${formatViolation(v)}`);
      if (entry.violations.length > 10)
        lines.push(`      … and ${entry.violations.length - 10} more`);
    }
  }
  for (const spec of run.coverage) {
    lines.push(
      `coverage ${displayPath(spec.file)} (${spec.services.join(', ')}): ${spec.exercised}/${spec.declared} operation × status pairs (${spec.percent}%)`,
    );
  }
  const failed = run.results.filter((r) => !r.passed).length;
  lines.push(
    failed === 0
      ? `${run.results.length} check${run.results.length === 1 ? '' : 's'} passed (seed ${run.seed})`
      : `${failed} of ${run.results.length} checks failed (seed ${run.seed})`,
  );
  return lines.join('\n');
}

/** The `--json` report. */
export function jsonReport(run: CheckRun): unknown {
  return {
    config: run.config,
    seed: run.seed,
    passed: passed(run),
    checks: run.results.map((result) => ({
      name: result.name,
      passed: result.passed,
      durationMs: Math.round(result.durationMs),
      calls: result.calls.length,
      expectations: result.expectations,
      problem: result.problem,
      runOutput: result.runOutput.length > 0 ? result.runOutput : undefined,
    })),
    violations: run.results.flatMap((result) =>
      result.contracts.flatMap((entry) =>
        entry.violations.map((v) => ({
          check: result.name,
          caller: entry.caller,
          service: entry.service,
          version: v.version,
          method: v.method,
          path: v.path,
          operation: entry.operation,
          status: v.status,
          location: v.location,
          severity: v.severity,
          code: v.code,
          message: v.message,
          expected: v.expected,
          actual: v.actual,
          spec: entry.file && displayPath(entry.file),
        })),
      ),
    ),
    coverage: Object.fromEntries(
      run.coverage.map((spec) => [displayPath(spec.file), { ...spec, file: undefined }]),
    ),
  };
}

/** The `--junit` report. */
export function junitReport(run: CheckRun): string {
  const config = displayPath(run.config);
  const suites = run.results.map((result) => {
    const cases: string[] = [];
    let failures = 0;
    for (const e of result.expectations) {
      const attrs = { name: e.name, classname: result.name, file: config, time: '0' };
      if (e.passed) {
        cases.push(`    <testcase${attributes(attrs)}/>`);
        continue;
      }
      failures++;
      const message = `${e.name}: measured ${e.measured}, wanted ${e.wanted}`;
      const body = [
        message,
        ...(e.name === 'run exit code' ? ['', ...result.runOutput.slice(-50)] : []),
      ].join('\n');
      cases.push(
        `    <testcase${attributes(attrs)}>\n      <failure${attributes({ type: result.name, message })}>${escape(body)}</failure>\n    </testcase>`,
      );
    }
    for (const entry of result.contracts) {
      const attrs = {
        name: entry.operation,
        classname: `${entry.caller}->${entry.service}`,
        file: entry.file ? displayPath(entry.file) : config,
        time: '0',
      };
      const errors = entry.violations.filter((v) => v.severity === 'error');
      const text = entry.violations
        .map((v) => `${v.method} ${v.path} → ${v.status}: ${formatViolation(v)}`)
        .join('\n');
      if (!caseFailed(result, entry)) {
        const out = text ? `\n      <system-out>${escape(text)}</system-out>\n    ` : '';
        cases.push(
          out
            ? `    <testcase${attributes(attrs)}>${out}</testcase>`
            : `    <testcase${attributes(attrs)}/>`,
        );
        continue;
      }
      failures++;
      const first = errors[0]!;
      const message = `${errors.length} contract violation${errors.length === 1 ? '' : 's'}: ${first.message}`;
      cases.push(
        `    <testcase${attributes(attrs)}>\n      <failure${attributes({ type: first.code, message })}>${escape(text)}</failure>\n    </testcase>`,
      );
    }
    const header = attributes({
      name: result.name,
      tests: String(cases.length),
      failures: String(failures),
      errors: '0',
      skipped: '0',
      time: (result.durationMs / 1000).toFixed(3),
      file: config,
    });
    return {
      text: `  <testsuite${header}>\n${cases.join('\n')}\n  </testsuite>`,
      tests: cases.length,
      failures,
    };
  });
  const totals = attributes({
    name: 'meshdev check',
    tests: String(suites.reduce((n, s) => n + s.tests, 0)),
    failures: String(suites.reduce((n, s) => n + s.failures, 0)),
    errors: '0',
    time: (run.results.reduce((n, r) => n + r.durationMs, 0) / 1000).toFixed(3),
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites${totals}>\n${suites.map((s) => s.text).join('\n')}\n</testsuites>\n`;
}

function attributes(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([key, value]) => ` ${key}="${escape(value)}"`)
    .join('');
}

/** Escapes text for XML 1.0, dropping the control characters it cannot carry. */
function escape(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
  );
}
