import { describe, expect, it } from 'vitest';
import { CloseCodeReader } from './ws-close-code.js';

/** One frame as RFC 6455 lays it out, masked like a client's when `mask` is given. */
function frame(opcode: number, payload: Buffer, mask?: Buffer): Buffer {
  const length =
    payload.length < 126
      ? Buffer.from([payload.length | (mask ? 0x80 : 0)])
      : Buffer.from([126 | (mask ? 0x80 : 0), payload.length >> 8, payload.length & 0xff]);
  const body = mask ? Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!)) : payload;
  return Buffer.concat([Buffer.from([0x80 | opcode]), length, mask ?? Buffer.alloc(0), body]);
}

const close = (code: number) => Buffer.from([code >> 8, code & 0xff, 0x62, 0x79, 0x65]);

describe('WebSocket close code reader', () => {
  it('skips data frames and reads the close code of an unmasked frame', () => {
    const reader = new CloseCodeReader();
    reader.push(Buffer.concat([frame(0x1, Buffer.alloc(300, 0x61)), frame(0x8, close(4001))]));
    expect(reader.code).toBe(4001);
  });

  it('reads a masked close frame that arrives one byte at a time', () => {
    const reader = new CloseCodeReader();
    const bytes = Buffer.concat([
      frame(0x2, Buffer.from('hello'), Buffer.from([1, 2, 3, 4])),
      frame(0x8, close(1000), Buffer.from([9, 8, 7, 6])),
    ]);
    for (const byte of bytes) reader.push(Buffer.from([byte]));
    expect(reader.code).toBe(1000);
  });

  it('says 1005 for a close frame without a code, and nothing before a close', () => {
    const reader = new CloseCodeReader();
    reader.push(frame(0x9, Buffer.from('ping')));
    expect(reader.code).toBeUndefined();
    reader.push(frame(0x8, Buffer.alloc(0)));
    expect(reader.code).toBe(1005);
  });
});
