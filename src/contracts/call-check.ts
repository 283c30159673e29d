/**
 * The contract check of one call: the violations found so far, what the call matched,
 * and the response body captured on its way to the caller. The body is checked by
 * `finish()`, after it was delivered — so checking never delays the caller's bytes —
 * by the `BodyChecker` it was handed to (a worker thread in `report` mode).
 */
import type { BodyObserver } from '../dataplane/pipeline.js';
import type { Contract } from './contract.js';
import { inlineBodyChecks, type BodyChecker } from './off-thread-checks.js';
import type { MediaSpec } from './operations.js';
import type { Violation } from './violation.js';

/** Largest response body kept for checking, in bytes; past it the body is not checked. */
export const CAPTURE_LIMIT = 1024 * 1024;

/** Most violations recorded per call. */
export const MAX_VIOLATIONS = 20;

/** Keeps a copy of a response body as it is delivered, up to `CAPTURE_LIMIT`. */
export class BodyCapture implements BodyObserver {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  overflow = false;
  complete = false;

  chunk(chunk: Buffer): void {
    if (this.overflow) return;
    this.size += chunk.length;
    if (this.size > CAPTURE_LIMIT) {
      this.overflow = true;
      this.chunks.length = 0;
    } else {
      this.chunks.push(chunk);
    }
  }

  end(): void {
    this.complete = true;
  }

  /**
   * The whole body, when it all passed and fit. A body that came as one chunk is that
   * chunk (the usual case for small JSON answers): the checker copies it once, into the
   * worker's ring, instead of once more here.
   */
  body(): Buffer | undefined {
    if (!this.complete || this.overflow) return undefined;
    return this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
  }
}

/** One call's contract check. */
export class CallCheck {
  /** `GET /orders/{id}`, once matched. */
  operation?: string;
  /** The declared response the status fell under. */
  response?: string;
  private readonly found: Violation[] = [];
  private pendingBody?: {
    capture: BodyCapture;
    media: MediaSpec;
    contentType?: string;
    checker: BodyChecker;
  };
  private finished = false;

  constructor(readonly contract: Contract) {}

  /** Adds violations (capped per call). */
  add(violations: readonly Violation[]): void {
    for (const violation of violations) {
      if (this.found.length < MAX_VIOLATIONS) this.found.push(violation);
    }
  }

  /** Violations found so far. */
  get violations(): readonly Violation[] {
    return this.found;
  }

  /** True when an error-level violation was found. */
  hasErrors(): boolean {
    return this.found.some((v) => v.severity === 'error');
  }

  /** Has `checker` check `capture`'s body against `media` when the call is finished. */
  checkBodyLater(
    capture: BodyCapture,
    media: MediaSpec,
    contentType: string | undefined,
    checker: BodyChecker = inlineBodyChecks,
  ): void {
    this.pendingBody = { capture, media, contentType, checker };
  }

  /**
   * Checks the captured body (once), then hands every violation of the call to `done`:
   * at once when there is no body to check or it is checked here, else when the checker
   * answers.
   */
  finish(done: (violations: Violation[]) => void): void {
    const pending = this.finished ? undefined : this.pendingBody;
    this.finished = true;
    const body = pending?.capture.body();
    if (!pending || !body) return done([...this.found]);
    pending.checker.check(this.contract, pending.media, pending.contentType, body, (found) => {
      this.add(found);
      done([...this.found]);
    });
  }
}
