import { describe, expect, it } from 'vitest';
import { compileMatch, compilePath } from './match.js';

const req = (method: string, path: string, headers: Record<string, string> = {}) => ({
  method,
  path,
  headers,
});

describe('compilePath', () => {
  it('matches exact paths only exactly', () => {
    const exact = compilePath('/charges');
    expect(exact('/charges')).toBe(true);
    expect(exact('/charges/1')).toBe(false);
  });

  it('matches prefixes with a trailing *', () => {
    const prefix = compilePath('/api/*');
    expect(prefix('/api/orders')).toBe(true);
    expect(prefix('/api')).toBe(true);
    expect(prefix('/apix')).toBe(false);
  });

  it('matches templates segment by segment', () => {
    const template = compilePath('/items/:id');
    expect(template('/items/42')).toBe(true);
    expect(template('/items/42/')).toBe(true);
    expect(template('/items/42/parts')).toBe(false);
    expect(template('/items/')).toBe(false);
  });
});

describe('compileMatch', () => {
  it('an absent match matches everything', () => {
    expect(compileMatch(undefined).test(req('DELETE', '/x'))).toBe(true);
  });

  it('requires every condition: method, path and headers', () => {
    const match = compileMatch({
      methods: ['POST'],
      path: '/charges',
      headers: {
        'x-canary': { exact: '1' },
        'x-debug': { present: true },
        'x-user': { regex: '^a' },
      },
    });
    const headers = { 'x-canary': '1', 'x-debug': '', 'x-user': 'alice' };
    expect(match.test(req('POST', '/charges', headers))).toBe(true);
    expect(match.test(req('GET', '/charges', headers))).toBe(false);
    expect(match.test(req('POST', '/charges', { ...headers, 'x-canary': '2' }))).toBe(false);
    expect(match.test(req('POST', '/charges', { 'x-canary': '1', 'x-user': 'alice' }))).toBe(false);
    expect(match.test(req('POST', '/charges', { ...headers, 'x-user': 'bob' }))).toBe(false);
  });

  it('present: false matches only when the header is absent', () => {
    const match = compileMatch({ headers: { 'x-debug': { present: false } } });
    expect(match.test(req('GET', '/', {}))).toBe(true);
    expect(match.test(req('GET', '/', { 'x-debug': '1' }))).toBe(false);
  });
});
