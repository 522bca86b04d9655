import type Database from 'better-sqlite3';
import { join } from 'node:path';
import { AirlockError } from '../errors.js';
import { DATABASE_FILE, openDatabase, type Db } from './database.js';
import { openSqlite } from './sqlite.js';

/** Rows of an ad-hoc query, with the column names in order. */
export interface QueryResult {
  columns: string[];
  rows: Record<string, unknown>[];
}

/**
 * Opens airlock.db for queries people write (`--sql`, named queries): read-only at the file
 * level and with `PRAGMA query_only`, so no statement can change it. The database is first
 * opened read-write once so that it exists and its migrations are applied.
 */
export function openQueryDatabase(options: { home: string; busyTimeoutMs?: number }): Db {
  openDatabase({ home: options.home, busyTimeoutMs: options.busyTimeoutMs }).close();
  const file = join(options.home, DATABASE_FILE);
  try {
    const db = openSqlite(file, { readonly: true, fileMustExist: true });
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    db.pragma('query_only = ON');
    return db;
  } catch (cause) {
    throw new AirlockError('AIRLOCK_ERR_STATE', `cannot open ${file} read-only: ${String(cause)}`, { cause });
  }
}

/**
 * Runs one statement that must only read and must return rows; anything else is refused
 * before it runs. `params` are bound by name when given (named queries use @since etc.).
 */
export function runReadOnly(db: Db, sql: string, params?: Record<string, unknown>): QueryResult {
  const fail = (message: string, cause?: unknown) =>
    new AirlockError('AIRLOCK_ERR_AUDIT_QUERY', message, cause === undefined ? {} : { cause });
  let stmt: Database.Statement;
  try {
    stmt = db.prepare(sql);
  } catch (cause) {
    throw fail(`the query does not compile: ${(cause as Error).message}`, cause);
  }
  if (!stmt.readonly) throw fail('the query would write to the audit log; only reads are allowed');
  if (!stmt.reader) throw fail('the query returns no rows; give a SELECT');
  try {
    const rows = (params ? stmt.all(params) : stmt.all()) as Record<string, unknown>[];
    return { columns: stmt.columns().map((c) => c.name), rows };
  } catch (cause) {
    throw fail(`the query failed: ${(cause as Error).message}`, cause);
  }
}
