import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration, parseSize } from './units.js';

describe('units', () => {
  it('parses durations into milliseconds', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('2s')).toBe(2000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('1m')).toBe(60_000);
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration('2 s')).toBeUndefined();
    expect(parseDuration('2sec')).toBeUndefined();
  });

  it('parses sizes into bytes', () => {
    expect(parseSize('512')).toBe(512);
    expect(parseSize('64KiB')).toBe(65_536);
    expect(parseSize('1MB')).toBe(1_000_000);
    expect(parseSize('1.5MiB')).toBe(1_572_864);
    expect(parseSize('1 parsec')).toBeUndefined();
  });

  it('formats durations back the way users write them', () => {
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(2000)).toBe('2s');
    expect(formatDuration(90_000)).toBe('90s');
    expect(formatDuration(7_200_000)).toBe('2h');
  });
});
