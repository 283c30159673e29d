import { describe, expect, it } from 'vitest';
import { isLoopbackHost, isLoopbackUrl } from './loopback.js';

describe('loopback', () => {
  it('knows this machine by name and address, and nothing that only looks like it', () => {
    for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '::1'])
      expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['127.0.0.1.evil.com', 'localhost.evil.com', '10.0.0.1', '', 'example.com'])
      expect(isLoopbackHost(host)).toBe(false);
  });

  it('takes http(s) URLs on loopback, with or without a port or path', () => {
    for (const url of [
      'http://127.0.0.1:9000/jwks.json',
      'https://localhost/keys',
      'http://[::1]:8080',
      'http://localhost:8080',
    ])
      expect(isLoopbackUrl(url)).toBe(true);
    for (const url of [
      'https://id.example.com/jwks',
      'http://127.0.0.1.evil.com/',
      'ftp://localhost/x',
      'http://[not a url',
    ])
      expect(isLoopbackUrl(url)).toBe(false);
  });
});
