import type { Violation } from '../contracts/violation.js';

/** Envoy-style response flags: every outcome explainable in one column. */
export type ResponseFlag =
  | 'DI' // delay injected
  | 'FI' // fault abort injected
  | 'FR' // fault reset injected
  | 'BW' // bandwidth throttle injected
  | 'UF' // upstream connect failure
  | 'UT' // upstream timeout
  | 'URX' // retries exhausted
  | 'UO' // circuit breaker open or overflow
  | 'NR' // no route
  | 'UC' // upstream connection closed / reset
  | 'UPE' // the upstream's answer was not valid HTTP (Envoy's upstream protocol error)
  | 'UH' // no healthy upstream
  | 'UAEX' // unauthenticated or unauthorized
  | 'DC' // the caller closed the connection before the answer
  | 'CV' // contract violation (error level) against the callee's OpenAPI spec
  | 'RL'; // rate limited (or over quota) by the caller's plan

/** One call record per hop: what a user needs to explain the call. */
export interface CallRecord {
  /** Epoch ms when the call started. */
  time: number;
  traceId: string;
  requestId: string;
  caller: string;
  service: string;
  /** The version that answered; empty when no instance was chosen (e.g. `NR`). */
  version: string;
  method: string;
  path: string;
  /** The route template that matched (gateway prefix or service route), if any. */
  route: string;
  /** The service route whose policy applied: its `name`, else `#<index>` (none: the default). */
  routeRule?: string;
  /** 0 when the connection was reset before a response. */
  status: number;
  /** ms, retries included. */
  durationMs: number;
  bytesIn: number;
  bytesOut: number;
  flags: ResponseFlag[];
  attempts: number;
  /** `mutual_tls` or `none`, Istio's connection_security_policy. */
  security: 'mutual_tls' | 'none';
  /** WebSocket sessions (status 101): the first close code either side sent (1005: none given). */
  wsCloseCode?: number;
  /** The API consumer the gateway recognized (API key or JWT), if any. */
  consumer?: string;
  /** The callee's OpenAPI operation this call matched, e.g. `GET /orders/{id}`. */
  operation?: string;
  /** The declared response it fell under (`200`, `2XX`, `DEFAULT`). */
  response?: string;
  /** Contract violations, when the callee has a spec and checking is on. */
  violations?: Violation[];
  /** A copy a route's `mirror` sent (its answer was discarded, the call did not wait). */
  mirror?: true;
}
