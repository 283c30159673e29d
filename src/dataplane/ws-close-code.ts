/**
 * Reads the close code of a WebSocket session from the bytes that pass through the
 * tunnel (RFC 6455 §5.2, §7.4), without holding the stream: frame headers are parsed as
 * they come, payloads are skipped, and only a close frame's first two bytes are kept.
 */

/** Feeds bytes of one direction; `code` is the first close code seen, if any. */
export class CloseCodeReader {
  code: number | undefined;
  private header = Buffer.alloc(0);
  private skip = 0;
  private closePayload: { mask?: Buffer; remaining: number; bytes: number[] } | undefined;

  /** Takes the next chunk of this direction. */
  push(chunk: Buffer): void {
    let data = chunk;
    while (data.length > 0 && this.code === undefined) {
      if (this.skip > 0) {
        const taken = Math.min(this.skip, data.length);
        this.skip -= taken;
        data = data.subarray(taken);
        continue;
      }
      if (this.closePayload) {
        data = this.readClose(data);
        continue;
      }
      this.header = Buffer.concat([this.header, data]);
      data = Buffer.alloc(0);
      const frame = parseHeader(this.header);
      if (!frame) return;
      const rest = this.header.subarray(frame.headerLength);
      this.header = Buffer.alloc(0);
      if (frame.opcode === 0x8 && frame.length === 0) {
        this.code = 1005; // a close frame with no status code
      } else if (frame.opcode === 0x8) {
        this.closePayload = { mask: frame.mask, remaining: frame.length, bytes: [] };
      } else {
        this.skip = frame.length;
      }
      data = rest;
    }
  }

  private readClose(data: Buffer): Buffer {
    const close = this.closePayload!;
    const taken = Math.min(close.remaining, data.length);
    for (let i = 0; i < taken && close.bytes.length < 2; i++) {
      const index = close.bytes.length;
      close.bytes.push(data[i]! ^ (close.mask ? close.mask[index % 4]! : 0));
    }
    close.remaining -= taken;
    if (close.bytes.length === 2) this.code = (close.bytes[0]! << 8) | close.bytes[1]!;
    else if (close.remaining === 0) this.code = 1005; // no status code in the frame
    if (close.remaining === 0) this.closePayload = undefined;
    return data.subarray(taken);
  }
}

/** A frame header, or undefined until enough bytes have arrived. */
function parseHeader(
  bytes: Buffer,
): { opcode: number; length: number; mask?: Buffer; headerLength: number } | undefined {
  if (bytes.length < 2) return undefined;
  const opcode = bytes[0]! & 0x0f;
  const masked = (bytes[1]! & 0x80) !== 0;
  let length = bytes[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (bytes.length < 4) return undefined;
    length = bytes.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (bytes.length < 10) return undefined;
    length = Number(bytes.readBigUInt64BE(2));
    offset = 10;
  }
  if (masked) {
    if (bytes.length < offset + 4) return undefined;
    return { opcode, length, mask: bytes.subarray(offset, offset + 4), headerLength: offset + 4 };
  }
  return { opcode, length, headerLength: offset };
}
