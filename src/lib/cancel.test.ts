import { describe, expect, it } from 'vitest';
import { Cancel, NEVER } from './cancel.js';

describe('Cancel', () => {
  it('tells each listener once, in order, and only those still added', () => {
    const cancel = new Cancel();
    const seen: string[] = [];
    cancel.onAbort(() => seen.push('a'));
    const removeB = cancel.onAbort(() => seen.push('b'));
    cancel.onAbort(() => {
      throw new Error('a failing listener stops no other');
    });
    cancel.onAbort(() => seen.push('c'));
    removeB();
    cancel.abort();
    cancel.abort();
    expect(seen).toEqual(['a', 'c']);
    expect(cancel.aborted).toBe(true);
  });

  it('calls a listener added after cancelling at once', () => {
    const cancel = new Cancel();
    cancel.abort();
    let called = 0;
    cancel.onAbort(() => called++);
    expect(called).toBe(1);
  });

  it('a child follows its parent until released, and cancels alone', () => {
    const parent = new Cancel();
    const first = Cancel.child(parent);
    const second = Cancel.child(parent);
    second.release();
    first.cancel.abort();
    expect(parent.aborted).toBe(false);
    parent.abort();
    expect(first.cancel.aborted).toBe(true);
    expect(second.cancel.aborted).toBe(false);
  });

  it('NEVER is never cancelled', () => {
    let called = 0;
    NEVER.onAbort(() => called++)();
    expect(NEVER.aborted).toBe(false);
    expect(called).toBe(0);
  });
});
