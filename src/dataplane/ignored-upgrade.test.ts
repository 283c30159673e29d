import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { headWithoutUpgrade, wantsTunnel } from './ignored-upgrade.js';

/** The parts of a request these functions read. */
const request = (rawHeaders: string[]) =>
  ({
    method: 'GET',
    url: '/a?b=1',
    httpVersion: '1.1',
    rawHeaders,
    headers: Object.fromEntries(
      rawHeaders.flatMap((value, i) =>
        i % 2 === 0 ? [[value.toLowerCase(), rawHeaders[i + 1]]] : [],
      ),
    ),
  }) as unknown as IncomingMessage;

describe('ignored upgrades', () => {
  it('tunnels WebSocket only', () => {
    expect(wantsTunnel(request(['Upgrade', 'websocket']))).toBe(true);
    expect(wantsTunnel(request(['Upgrade', 'h2c, WebSocket']))).toBe(true);
    expect(wantsTunnel(request(['Upgrade', 'h2c']))).toBe(false);
    expect(wantsTunnel(request(['Upgrade', 'TLS/1.2']))).toBe(false);
  });

  it('writes the head again without the upgrade, keeping every other header as sent', () => {
    const head = headWithoutUpgrade(
      request([
        'Host',
        'shop',
        'Connection',
        'Upgrade, HTTP2-Settings, keep-alive',
        'Upgrade',
        'h2c',
        'HTTP2-Settings',
        'AAMAAABkAAQCAAAAAAIAAAAA',
        'X-Trace',
        'a',
        'X-Trace',
        'b',
      ]),
    );
    expect(head).toBe(
      'GET /a?b=1 HTTP/1.1\r\nHost: shop\r\nConnection: keep-alive\r\nX-Trace: a\r\nX-Trace: b\r\n\r\n',
    );
    expect(headWithoutUpgrade(request(['Connection', 'Upgrade', 'Upgrade', 'h2c']))).toBe(
      'GET /a?b=1 HTTP/1.1\r\n\r\n',
    );
  });
});
