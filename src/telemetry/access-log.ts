/**
 * The headless access log: one readable line per call, or one JSON object per call.
 * Colours only on a TTY without NO_COLOR; never terminal control codes otherwise.
 */
import { instanceLabel } from '../config/model.js';
import type { CallRecord } from './call-record.js';
import type { Violation } from '../contracts/violation.js';

/** Options for the human-readable line. */
export interface AccessLogStyle {
  color: boolean;
}

/** `14:02:31.120 gateway→orders@v1 POST /orders 201 12ms 1.2KB DI trace=4bf92f…` */
export function formatCallLine(call: CallRecord, style: AccessLogStyle): string {
  const time = new Date(call.time).toISOString().slice(11, 23);
  const callee = instanceLabel(call.service, call.version);
  const status = call.status === 0 ? 'RESET' : String(call.status);
  const parts = [
    time,
    `${call.caller}→${callee}`,
    call.method,
    call.path,
    paint(status, statusColor(call.status), style),
    `${Math.round(call.durationMs)}ms`,
    formatBytes(call.bytesOut),
  ];
  if (call.consumer) parts.push(`consumer=${call.consumer}`);
  if (call.attempts > 1) parts.push(`attempts=${call.attempts}`);
  if (call.wsCloseCode !== undefined) parts.push(`ws-close=${call.wsCloseCode}`);
  const flags = flagText(call);
  if (flags) parts.push(paint(flags, 35, style));
  parts.push(`trace=${call.traceId.slice(0, 6)}…`);
  return parts.join(' ');
}

/**
 * A call's flags as shown to people: `DI,URX`, with contract violations as `CV n` (how
 * many) instead of the bare `CV` flag, and `mirror` first on a mirror's copy.
 */
export function flagText(call: Pick<CallRecord, 'flags' | 'violations' | 'mirror'>): string {
  // The usual call (the dashboard formats every visible row each render): one join.
  if (!call.mirror && !call.violations?.length) return call.flags.join(',');
  // A mirror's copy says so wherever its flags are shown (log, `meshdev calls`, dashboard).
  const parts = call.mirror ? ['mirror'] : [];
  const others = call.violations?.length ? call.flags.filter((flag) => flag !== 'CV') : call.flags;
  if (others.length) parts.push(others.join(','));
  if (call.violations?.length) parts.push(`CV ${call.violations.length}`);
  return parts.join(' ');
}

/** `error response.body.id type: id must be integer (expected integer, got "two")` */
export function formatViolation(violation: Violation): string {
  const detail = [
    violation.expected !== undefined ? `expected ${violation.expected}` : undefined,
    violation.actual !== undefined ? `got ${violation.actual}` : undefined,
  ].filter(Boolean);
  return (
    `${violation.severity} ${violation.location.join('.')} ${violation.code}: ${violation.message}` +
    (detail.length ? ` (${detail.join(', ')})` : '')
  );
}

/** The `--json` form of a call. */
export function formatCallJson(call: CallRecord): string {
  return JSON.stringify({ event: 'call', ...call });
}

/** `512B`, `1.2KB`, `3.4MB` */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes}B`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)}KB`;
  return `${(bytes / 1_000_000).toFixed(1)}MB`;
}

function statusColor(status: number): number {
  if (status === 0 || status >= 500) return 31;
  if (status >= 400) return 33;
  return 32;
}

function paint(text: string, code: number, style: AccessLogStyle): string {
  return style.color ? `\u001b[${code}m${text}\u001b[39m` : text;
}
