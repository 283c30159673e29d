/**
 * The last `capacity` items pushed, in a fixed array with a cursor: a push overwrites the
 * oldest in O(1). (An array pushed and `shift()`ed once full moves every item per push
 * when it is large: the usage ledger's 20,000 did, on every call of an API consumer.)
 */
export class Ring<T> {
  private readonly items: T[] = [];
  private next = 0;

  constructor(readonly capacity: number) {}

  /** How many items are held (never more than `capacity`). */
  get size(): number {
    return this.items.length;
  }

  /** Adds `item`, overwriting the oldest once full. */
  push(item: T): void {
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
  }

  /** The items held, oldest first (a new array). */
  oldestFirst(): T[] {
    if (this.items.length < this.capacity) return [...this.items];
    return [...this.items.slice(this.next), ...this.items.slice(0, this.next)];
  }

  /** Up to `limit` items, newest first (a new array). */
  newestFirst(limit = this.items.length): T[] {
    const out: T[] = [];
    const count = Math.min(limit, this.items.length);
    for (let i = 1; i <= count; i++) {
      out.push(this.items[(this.next - i + this.items.length) % this.items.length]!);
    }
    return out;
  }
}
