import { describe, expect, it } from 'vitest';
import type { CallRecord } from './call-record.js';
import { flagText, formatCallLine } from './access-log.js';

const call: CallRecord = {
  time: Date.UTC(2026, 10, 29, 19, 0, 39, 497),
  traceId: '4fdb6a0000000000',
  requestId: 'r',
  caller: 'productpage',
  service: 'reviews',
  version: 'v3',
  method: 'GET',
  path: '/reviews/0',
  route: '/reviews/0',
  status: 200,
  durationMs: 18,
  bytesIn: 0,
  bytesOut: 139,
  flags: [],
  attempts: 1,
  security: 'mutual_tls',
};

describe('flagText', () => {
  it('marks a mirror’s copy first, before its flags and violations', () => {
    expect(flagText(call)).toBe('');
    expect(flagText({ ...call, mirror: true })).toBe('mirror');
    expect(flagText({ ...call, mirror: true, flags: ['UF'] })).toBe('mirror UF');
    const violations = [
      { location: ['response'], severity: 'error' as const, code: 'type', message: 'm' },
    ];
    expect(flagText({ ...call, flags: ['DI', 'CV'], violations })).toBe('DI CV 1');
    expect(flagText({ ...call, mirror: true, flags: ['CV'], violations })).toBe('mirror CV 1');
  });

  it('puts it on the access-log line', () => {
    expect(formatCallLine({ ...call, mirror: true }, { color: false })).toBe(
      '19:00:39.497 productpage→reviews@v3 GET /reviews/0 200 18ms 139B mirror trace=4fdb6a…',
    );
  });
});
