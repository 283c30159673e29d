/**
 * A ring of shared memory handed out in regions and given back oldest first: how the
 * serving thread passes response bodies to the contract worker without a message per
 * body (the worker reads them where they were written). A fresh buffer per batch cost
 * more than the check it moved: page faults to make it, a transfer to post it
 * (bench/offthread/probe.ts has the sizes).
 */

/** Regions of a `SharedArrayBuffer`, reserved in order and released in the same order. */
export class ByteRing {
  readonly shared: SharedArrayBuffer;
  /** The whole ring, for reading and writing regions. */
  readonly bytes: Buffer;
  /** Starts of the regions in use, oldest first (from `first`). */
  private starts: number[] = [];
  private first = 0;
  /** Where the next region begins. */
  private head = 0;

  constructor(readonly size: number) {
    this.shared = new SharedArrayBuffer(size);
    this.bytes = Buffer.from(this.shared);
  }

  /** Regions in use. */
  get used(): number {
    return this.starts.length - this.first;
  }

  /**
   * The start of a free region of `length` bytes (> 0), now in use, or undefined when the
   * ring has no such room until older regions are released.
   */
  reserve(length: number): number | undefined {
    if (length <= 0 || length > this.size) return undefined;
    if (this.used === 0) this.head = 0;
    const tail = this.used === 0 ? 0 : this.starts[this.first]!;
    let start: number | undefined;
    if (this.used === 0 || this.head > tail) {
      // Free space after head to the end, then before tail (wrapping round).
      if (this.head + length <= this.size) start = this.head;
      else if (length <= tail) start = 0;
    } else if (this.head + length <= tail) {
      // Wrapped: free space between head and the oldest region.
      start = this.head;
    }
    if (start === undefined) return undefined;
    this.head = start + length;
    this.starts.push(start);
    return start;
  }

  /** Gives back the oldest region in use. */
  release(): void {
    if (this.used === 0) return;
    this.first++;
    if (this.used === 0) {
      this.starts = [];
      this.first = 0;
      this.head = 0;
    } else if (this.first > 1024 && this.first * 2 > this.starts.length) {
      this.starts = this.starts.slice(this.first);
      this.first = 0;
    }
  }

  /** Gives back every region. */
  clear(): void {
    this.starts = [];
    this.first = 0;
    this.head = 0;
  }
}
