/**
 * The contract check of one call: the violations found so far, what the call matched,
 * and the response body captured on its way to the caller. The body is checked by
 * `finish()`, after it was delivered — so checking never delays the caller's bytes.
 */
import type { BodyObserver } from '../dataplane/pipeline.js';
import { checkResponseBody } from './check-response.js';
import type { Contract } from './contract.js';
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

  /** The whole body, when it all passed and fit. */
  body(): Buffer | undefined {
    return this.complete && !this.overflow ? Buffer.concat(this.chunks) : undefined;
  }
}

/** One call's contract check. */
export class CallCheck {
  /** `GET /orders/{id}`, once matched. */
  operation?: string;
  /** The declared response the status fell under. */
  response?: string;
  private readonly found: Violation[] = [];
  private pendingBody?: { capture: BodyCapture; media: MediaSpec; contentType?: string };
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

  /** Checks `capture`'s body against `media` when the call is finished. */
  checkBodyLater(capture: BodyCapture, media: MediaSpec, contentType: string | undefined): void {
    this.pendingBody = { capture, media, contentType };
  }

  /** Checks the captured body (once) and returns every violation of the call. */
  finish(): Violation[] {
    if (!this.finished && this.pendingBody) {
      const { capture, media, contentType } = this.pendingBody;
      const body = capture.body();
      if (body) this.add(checkResponseBody(this.contract, media, contentType, body));
    }
    this.finished = true;
    return [...this.found];
  }
}
