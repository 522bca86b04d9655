import type { ErrorCode } from '../errors.js';
import type { BudgetRecord } from '../store/budget-records.js';
import type { ChangeRecord } from '../store/sandbox-changes.js';
import type { DeniedRequest, RequestIntent, RequestOutcome } from './sink.js';

/** What the audit thread is started with. */
export interface WorkerConfig {
  home: string;
  synchronous: 'FULL' | 'NORMAL';
  maxBytes?: number;
  /** how long a commit waits for a lock held by another connection (omitted = 5 s) */
  busyTimeoutMs?: number;
}

/** An AirlockError as it crosses the thread boundary. */
export interface WireError {
  code: ErrorCode;
  message: string;
  hint?: string;
}

/** Main thread → audit thread (sent as arrays, one per tick). */
export type ToWorker =
  | { t: 'intent'; seq: number; request: RequestIntent }
  | { t: 'finish'; id: number; outcome: RequestOutcome }
  | { t: 'denied'; request: DeniedRequest }
  | { t: 'budgets'; records: BudgetRecord[] }
  | { t: 'change'; seq: number; change: ChangeRecord }
  | { t: 'flush' | 'close'; seq: number };

/** Audit thread → main thread (sent as arrays, one per commit). */
export type ToMain =
  | { t: 'intent'; seq: number; id?: number; error?: WireError }
  | { t: 'done'; seq: number; value: number; error?: WireError }
  | { t: 'error'; error: WireError }
  | { t: 'prune'; rows: number; upTo: string | undefined }
  | { t: 'opened'; synchronous: number };
