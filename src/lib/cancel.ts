/**
 * Cancellation on the request path. Node's AbortController and AbortSignal are
 * EventTargets: creating one and adding or removing a listener cost microseconds each, and
 * a hop used two controllers and four listener changes — ~8% of a gateway hop's CPU under
 * load (#14). This is the part of them the mesh uses, as plain objects.
 */

/** Something that may be cancelled: read `aborted`, or be told once when it happens. */
export interface CancelSignal {
  readonly aborted: boolean;
  /**
   * Calls `listener` once when cancelled — at once if already cancelled. Returns a function
   * that removes it (call it when the work is done, so the listener is not kept).
   */
  onAbort(listener: () => void): () => void;
}

const nothing = () => {};

/** A cancellation source and its signal in one object. */
export class Cancel implements CancelSignal {
  aborted = false;
  private listeners: Array<() => void> | undefined;

  onAbort(listener: () => void): () => void {
    if (this.aborted) {
      listener();
      return nothing;
    }
    (this.listeners ??= []).push(listener);
    return () => {
      const listeners = this.listeners;
      if (!listeners) return;
      const index = listeners.indexOf(listener);
      if (index >= 0) listeners.splice(index, 1);
    };
  }

  /** Cancels: every listener runs once, in the order added; one that throws stops no other. */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const listeners = this.listeners;
    this.listeners = undefined;
    if (!listeners) return;
    for (const listener of listeners) {
      try {
        listener();
      } catch {
        // A listener's failure is its own; the others still run.
      }
    }
  }

  /**
   * A cancellation that follows `parent` (cancelled with it) and can be cancelled on its
   * own; `release` stops following (call it when the child's work is done).
   */
  static child(parent: CancelSignal): { cancel: Cancel; release: () => void } {
    const cancel = new Cancel();
    const release = parent.onAbort(() => cancel.abort());
    return { cancel, release };
  }
}

/** A signal that is never cancelled. */
export const NEVER: CancelSignal = { aborted: false, onAbort: () => nothing };
