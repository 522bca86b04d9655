import { existsSync, statSync } from 'node:fs';
import type { Statement } from 'better-sqlite3';
import type { Db } from './database.js';

/** What `airlock doctor` reports of the audit log's gaps. */
export interface GapSummary {
  /** requests whose rows the writer gave up on */
  lost: number;
  /** rows pruned to stay under audit.maxBytes */
  pruned: number;
  /** the latest loss, if any */
  lastLost?: { at: string; reason: string };
}

/**
 * The audit log's size and gaps: how many bytes its live pages and WAL take, pruning the
 * oldest finished rows, and the `audit_gaps` table (sql/003_audit_gaps.sql).
 */
export class AuditSpace {
  readonly #db: Db;
  readonly #pageCount: Statement;
  readonly #freePages: Statement;
  readonly #pageSize: number;
  readonly #rows: Statement;
  readonly #pruneOldest: Statement;
  readonly #insertGap: Statement;
  readonly #gapTotals: Statement;
  readonly #lastLost: Statement;

  constructor(db: Db) {
    this.#db = db;
    this.#pageCount = db.prepare('PRAGMA page_count').pluck();
    this.#freePages = db.prepare('PRAGMA freelist_count').pluck();
    this.#pageSize = db.pragma('page_size', { simple: true }) as number;
    this.#rows = db.prepare('SELECT count(*) FROM requests WHERE decision IS NOT NULL').pluck();
    // `decision IS NOT NULL`: an in-flight row is never pruned (its outcome is still coming)
    this.#pruneOldest = db
      .prepare(
        `DELETE FROM requests WHERE id IN
         (SELECT id FROM requests WHERE decision IS NOT NULL ORDER BY id LIMIT ?)
       RETURNING started_at`,
      )
      .pluck();
    this.#insertGap = db.prepare('INSERT INTO audit_gaps (kind, rows, reason, at) VALUES (?, ?, ?, ?)');
    this.#gapTotals = db.prepare(
      `SELECT coalesce(sum(rows) FILTER (WHERE kind = 'lost'), 0) AS lost,
              coalesce(sum(rows) FILTER (WHERE kind = 'pruned'), 0) AS pruned FROM audit_gaps`,
    );
    this.#lastLost = db.prepare(
      "SELECT at, reason FROM audit_gaps WHERE kind = 'lost' ORDER BY id DESC LIMIT 1",
    );
  }

  /** Bytes the database's pages in use take (free pages, which SQLite reuses, left out). */
  liveBytes(): number {
    return ((this.#pageCount.get() as number) - (this.#freePages.get() as number)) * this.#pageSize;
  }

  /** Bytes on disk: the database file and its WAL. */
  diskBytes(): number {
    const size = (file: string) => (existsSync(file) ? statSync(file).size : 0);
    return size(this.#db.name) + size(`${this.#db.name}-wal`);
  }

  /**
   * Bounds this connection's files: the database file to `fileBytes` (a write that would grow
   * it further fails with SQLITE_FULL), and the WAL to about `walBytes` (checkpointed every half
   * of it, truncated to it after a checkpoint).
   */
  limitFiles(fileBytes: number, walBytes: number): void {
    this.#db.pragma(`max_page_count = ${Math.max(1, Math.floor(fileBytes / this.#pageSize))}`);
    this.#db.pragma(
      `wal_autocheckpoint = ${Math.min(1000, Math.max(8, Math.floor(walBytes / 2 / this.#pageSize)))}`,
    );
    this.#db.pragma(`journal_size_limit = ${walBytes}`);
  }

  /** Finished rows (those pruning may remove). */
  finishedRows(): number {
    return this.#rows.get() as number;
  }

  /** Deletes up to `count` of the oldest finished rows; returns how many, and the newest start among them. */
  pruneOldest(count: number): { rows: number; upTo: string | undefined } {
    const starts = this.#pruneOldest.all(count) as string[];
    return { rows: starts.length, upTo: starts.sort().at(-1) };
  }

  recordGap(kind: 'lost' | 'pruned', rows: number, reason: string, at: string): void {
    this.#insertGap.run(kind, rows, reason, at);
  }

  gaps(): GapSummary {
    const totals = this.#gapTotals.get() as { lost: number; pruned: number };
    const last = this.#lastLost.get() as { at: string; reason: string } | undefined;
    return last ? { ...totals, lastLost: last } : totals;
  }
}
