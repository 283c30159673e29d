import { describe, expect, it } from 'vitest';
import { bearerOf } from './authenticate.js';

describe('bearerOf', () => {
  it('reads the token after the Bearer scheme, in any case, after spaces or tabs', () => {
    expect(bearerOf('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerOf('bearer abc')).toBe('abc');
    expect(bearerOf('BEARER   abc')).toBe('abc');
    expect(bearerOf('Bearer\tabc')).toBe('abc');
  });

  it('is undefined for other schemes, a missing space, a blank or a spaced token', () => {
    for (const value of [
      'Basic eDp5',
      'Bearerabc',
      'Bearer',
      'Bearer ',
      'Bearer a b',
      'Bearer a\tb',
      'Bearex abc',
      '@earer abc',
      '',
      undefined,
      ['Bearer abc'],
    ]) {
      expect(bearerOf(value), JSON.stringify(value)).toBeUndefined();
    }
  });
});
