import type { Statement } from 'better-sqlite3';
import type { Db } from './database.js';

/** One live change to a running sandbox (table `sandbox_changes`); never a secret value. */
export interface ChangeRecord {
  sandbox: string;
  /** epoch ms */
  at: number;
  kind: 'attach' | 'revoke' | 'budgets' | 'endpoints';
  /** credential names, or the new budgets or endpoint rules, as written */
  detail: string[];
}

/** The `sandbox_changes` table (sql/006_sandbox_changes.sql), written by the audit thread. */
export class SandboxChanges {
  readonly #insert: Statement;

  constructor(db: Db) {
    this.#insert = db.prepare('INSERT INTO sandbox_changes (sandbox, at, kind, detail) VALUES (?, ?, ?, ?)');
  }

  record(change: ChangeRecord): void {
    this.#insert.run(
      change.sandbox,
      new Date(change.at).toISOString(),
      change.kind,
      JSON.stringify(change.detail),
    );
  }
}
