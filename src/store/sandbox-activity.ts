import type { Statement } from 'better-sqlite3';
import { COLUMNS, type RequestRecord } from './audit-records.js';
import type { Db } from './database.js';

/** What one sandbox did through its proxy so far. */
export interface SandboxTotals {
  requests: number;
  denied: number;
  /** input + output tokens the responses reported */
  tokens: number;
}

/**
 * Reads one sandbox's audit rows for the daemon (`ls` totals, `logs --follow`), on a
 * read-only connection: the engine's audit writer is the only one that writes.
 */
export class SandboxActivity {
  readonly #totals: Statement;
  readonly #after: Statement;

  constructor(db: Db) {
    this.#totals = db.prepare(
      `SELECT count(*) AS requests, coalesce(sum(decision = 'denied'), 0) AS denied,
         coalesce(sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)), 0) AS tokens
       FROM requests WHERE sandbox = ?`,
    );
    this.#after = db.prepare(
      `SELECT ${COLUMNS} FROM requests WHERE sandbox = ? AND id > ? ORDER BY id LIMIT ?`,
    );
  }

  totals(sandbox: string): SandboxTotals {
    return this.#totals.get(sandbox) as SandboxTotals;
  }

  /** Rows of `sandbox` with an id above `afterId`, oldest first (in-flight ones included). */
  after(sandbox: string, afterId: number, limit = 500): RequestRecord[] {
    return this.#after.all(sandbox, afterId, limit) as RequestRecord[];
  }
}
