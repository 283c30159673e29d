/**
 * A map keyed by a fixed-length tuple of strings and numbers, held as nested Maps. Per-call
 * telemetry finds its series by a call's fields this way: a key string built per call
 * (`${caller}|${service}|…`) is a new string to allocate and hash every time, while the
 * fields themselves are mostly the same string objects, hashed once.
 */
type Key = string | number;

interface Node<V> {
  children?: Map<Key, Node<V>>;
  value?: V;
}

export class KeyTree<V> {
  private root: Node<V> = {};
  private count = 0;

  /** The value under `keys`, if any. */
  get(keys: readonly Key[]): V | undefined {
    let node: Node<V> | undefined = this.root;
    for (const key of keys) {
      node = node.children?.get(key);
      if (!node) return undefined;
    }
    return node.value;
  }

  /** Sets the value under `keys`. */
  set(keys: readonly Key[], value: V): void {
    let node = this.root;
    for (const key of keys) {
      node.children ??= new Map();
      let child = node.children.get(key);
      if (!child) node.children.set(key, (child = {}));
      node = child;
    }
    if (node.value === undefined) this.count++;
    node.value = value;
  }

  /** How many values are held. */
  get size(): number {
    return this.count;
  }

  /** Removes everything. */
  clear(): void {
    this.root = {};
    this.count = 0;
  }
}
