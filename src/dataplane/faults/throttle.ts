/** A stream that passes bytes at most at `bytesPerSecond`, in slices of ~50 ms. */
import { Transform } from 'node:stream';

/** Creates the throttle; the average rate over the stream never exceeds the limit. */
export function throttle(bytesPerSecond: number, now: () => number = Date.now): Transform {
  const slice = Math.max(1, Math.floor(bytesPerSecond / 20));
  let started = 0;
  let sent = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (started === 0) started = now();
      let offset = 0;
      const pushNext = () => {
        if (this.destroyed) return;
        if (offset >= chunk.length) return done();
        const piece = chunk.subarray(offset, offset + slice);
        offset += piece.length;
        // Wait until sending this piece keeps the average at the limit.
        const due = started + ((sent + piece.length) / bytesPerSecond) * 1000;
        const wait = due - now();
        sent += piece.length;
        const send = () => {
          this.push(piece);
          pushNext();
        };
        if (wait > 1) setTimeout(send, wait);
        else send();
      };
      pushNext();
    },
  });
}
