import type { Statement } from 'better-sqlite3';
import type { Db } from './database.js';

/** A budget's state (table `budgets`, sql/005_budgets.sql and 007_budget_requests.sql); times in epoch ms. */
export interface BudgetRecord {
  owner: string;
  sandbox: string;
  /** '' = every credential */
  credential: string;
  kind: 'tokens' | 'input' | 'output' | 'usd' | 'requests';
  /** 0 = no window */
  windowMs: number;
  /** for a request rate, its endpoint rule `METHOD /glob` ('' = none) */
  endpoint: string;
  limit: number;
  windowStart: number;
  used: number;
  updatedAt: number;
}

interface Row {
  owner: string;
  sandbox: string;
  credential: string;
  kind: BudgetRecord['kind'];
  window_ms: number;
  endpoint: string;
  limit_value: number;
  window_start: string;
  used: number;
  updated_at: string;
}

/** The `budgets` table: loaded when a sandbox is made, saved by the audit thread as calls settle. */
export class BudgetRecords {
  readonly #load: Statement;
  readonly #save: Statement;
  readonly #saveAll: (records: readonly BudgetRecord[]) => void;

  constructor(db: Db) {
    this.#load = db.prepare('SELECT * FROM budgets WHERE owner = ?');
    this.#save = db.prepare(
      `INSERT INTO budgets (owner, sandbox, credential, kind, window_ms, endpoint, limit_value, window_start, used, updated_at)
       VALUES (@owner, @sandbox, @credential, @kind, @window_ms, @endpoint, @limit_value, @window_start, @used, @updated_at)
       ON CONFLICT (owner, credential, kind, window_ms, endpoint) DO UPDATE SET
         sandbox = excluded.sandbox, limit_value = excluded.limit_value,
         window_start = excluded.window_start, used = excluded.used, updated_at = excluded.updated_at`,
    );
    this.#saveAll = db.transaction((records: readonly BudgetRecord[]) => this.#saveEach(records));
  }

  /** Every budget row of an owner (a sandbox name or id). */
  load(owner: string): BudgetRecord[] {
    return (this.#load.all(owner) as Row[]).map((r) => ({
      owner: r.owner,
      sandbox: r.sandbox,
      credential: r.credential,
      kind: r.kind,
      windowMs: r.window_ms,
      endpoint: r.endpoint,
      limit: r.limit_value,
      windowStart: Date.parse(r.window_start),
      used: r.used,
      updatedAt: Date.parse(r.updated_at),
    }));
  }

  /** Stores rows in one transaction (one commit for a batch of settled calls). */
  save(records: readonly BudgetRecord[]): void {
    this.#saveAll(records);
  }

  #saveEach(records: readonly BudgetRecord[]): void {
    for (const r of records) {
      this.#save.run({
        owner: r.owner,
        sandbox: r.sandbox,
        credential: r.credential,
        kind: r.kind,
        window_ms: r.windowMs,
        endpoint: r.endpoint,
        limit_value: r.limit,
        window_start: new Date(r.windowStart).toISOString(),
        used: r.used,
        updated_at: new Date(r.updatedAt).toISOString(),
      });
    }
  }
}
