import { describe, expect, it } from 'vitest';
import { normalizeTarget, removeDotSegments } from './normalize-path.js';

describe('request-target normalization', () => {
  it('removes dot-segments as RFC 3986 5.2.4 does, never above the root', () => {
    expect(removeDotSegments('/a/b/c/./../../g')).toBe('/a/g');
    expect(removeDotSegments('/api/../admin')).toBe('/admin');
    expect(removeDotSegments('/../../x')).toBe('/x');
    expect(removeDotSegments('/a/b/..')).toBe('/a/');
    expect(removeDotSegments('/a/.')).toBe('/a/');
    expect(removeDotSegments('/a/..b/.c')).toBe('/a/..b/.c');
  });

  it('decodes escaped unreserved characters before removing dot-segments', () => {
    expect(normalizeTarget('/api/%2e%2e/admin?x=1')).toEqual({
      path: '/admin?x=1',
      pathname: '/admin',
      authority: undefined,
    });
    expect(normalizeTarget('/api/%2E./admin')).toMatchObject({ pathname: '/admin' });
    expect(normalizeTarget('/%7Euser/%41')).toMatchObject({ pathname: '/~user/A' });
    expect(normalizeTarget('/a%20b%3a')).toMatchObject({ pathname: '/a%20b%3A' });
  });

  it('leaves the query alone', () => {
    expect(normalizeTarget('/x?next=/../%2e%2e')).toMatchObject({
      path: '/x?next=/../%2e%2e',
      pathname: '/x',
    });
  });

  it('reduces absolute-form targets to origin-form and keeps the authority', () => {
    expect(normalizeTarget('http://evil.example:80/api/../admin?q')).toEqual({
      path: '/admin?q',
      pathname: '/admin',
      authority: 'evil.example:80',
    });
    expect(normalizeTarget('http://host')).toMatchObject({ path: '/', pathname: '/' });
  });

  it('refuses what cannot be normalized safely', () => {
    expect(normalizeTarget('/a%zz')).toEqual({
      refused: 'broken percent-escape "%zz" in the path',
    });
    expect(normalizeTarget('/a%2')).toHaveProperty('refused');
    expect(normalizeTarget('/api/..%2fadmin')).toHaveProperty('refused');
    expect(normalizeTarget('/api/..%5cadmin')).toHaveProperty('refused');
    expect(normalizeTarget('*')).toHaveProperty('refused');
    expect(normalizeTarget('admin')).toHaveProperty('refused');
  });
});
