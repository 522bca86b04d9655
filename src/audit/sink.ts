/**
 * The contract between the proxy and the audit log. The proxy calls `intent` before it
 * forwards a credentialed request and waits for it: the promise resolves only once the row
 * is committed (group commit), and rejects when it cannot be written — the proxy then
 * answers 503 and sends nothing upstream. Denials are recorded with `denied`.
 */

export type AuditDecision = 'allowed' | 'denied' | 'error' | 'unknown';

/** What is known about a request before it goes upstream. Never holds a secret value. */
export interface RequestIntent {
  sandboxId: string;
  /** catalogue service name (omitted for forward-proxy traffic without a service) */
  service?: string;
  /** the credential's env var NAME, e.g. OPENAI_API_KEY (never its value) */
  credential?: string;
  method: string;
  host: string;
  /** the normalized path that was checked and forwarded */
  path: string;
  /** the query string with credential-bearing parameters redacted (omitted = none) */
  query?: string;
  /** epoch ms */
  startedAt: number;
}

/** A request refused by policy (or malformed); recorded in one write. */
export interface DeniedRequest extends RequestIntent {
  status: number;
  reason: string;
}

/** LLM usage read from a response. */
export interface LlmUsage {
  model?: string;
  inputTokens?: number;
  outputTokens?: number;
}

/** How a forwarded request ended. */
export interface RequestOutcome {
  decision: Exclude<AuditDecision, 'denied' | 'unknown'>;
  /** upstream status, or the proxy's own error status (502/504) */
  status: number;
  reason?: string;
  /** request body bytes from the guest (the `bytes_in` column) */
  bytesIn: number;
  /** response body bytes to the guest (the `bytes_out` column) */
  bytesOut: number;
  /** ms from start to the first response byte (omitted = none arrived) */
  ttfbMs?: number;
  durationMs: number;
  usage?: LlmUsage;
  /** epoch ms */
  endedAt: number;
}

/** A committed intent row; `finish` records its outcome (once). */
export interface AuditEntry {
  id: number;
  finish(outcome: RequestOutcome): void;
}

export interface AuditSink {
  intent(request: RequestIntent): Promise<AuditEntry>;
  denied(request: DeniedRequest): void;
}
