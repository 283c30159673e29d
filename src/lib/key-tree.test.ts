import { describe, expect, it } from 'vitest';
import { KeyTree } from './key-tree.js';

describe('KeyTree', () => {
  it('finds values by their whole tuple, strings and numbers apart', () => {
    const tree = new KeyTree<string>();
    tree.set(['gateway', 'api', 200], 'ok');
    tree.set(['gateway', 'api', 503], 'unavailable');
    tree.set(['gateway', 'api', '200'], 'a string 200');
    expect(tree.get(['gateway', 'api', 200])).toBe('ok');
    expect(tree.get(['gateway', 'api', 503])).toBe('unavailable');
    expect(tree.get(['gateway', 'api', '200'])).toBe('a string 200');
    expect(tree.get(['gateway', 'api'])).toBeUndefined(); // a prefix holds no value
    expect(tree.get(['gateway', 'api', 404])).toBeUndefined();
    expect(tree.size).toBe(3);
  });

  it('counts a replaced value once, and forgets everything on clear', () => {
    const tree = new KeyTree<number>();
    tree.set(['a', 1], 1);
    tree.set(['a', 1], 2);
    expect(tree.get(['a', 1])).toBe(2);
    expect(tree.size).toBe(1);
    tree.clear();
    expect(tree.size).toBe(0);
    expect(tree.get(['a', 1])).toBeUndefined();
  });
});
