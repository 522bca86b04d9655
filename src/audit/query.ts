import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AirlockError } from '../errors.js';
import {
  AuditRecords,
  filterParams,
  withSelected,
  type ListedRequest,
  type PruneCandidates,
  type RequestFilter,
  type RequestRecord,
  type RequestSummary,
} from '../store/audit-records.js';
import { AuditSpace, type GapSummary } from '../store/audit-space.js';
import { openDatabase, SQL_DIR, type Db } from '../store/database.js';
import { openQueryDatabase, runReadOnly, type QueryResult } from '../store/read-only-query.js';

export type {
  GapSummary,
  ListedRequest,
  PruneCandidates,
  QueryResult,
  RequestFilter,
  RequestRecord,
  RequestSummary,
};
export type { RequestDecision } from '../store/audit-records.js';

/** Where the named queries live: `sql/queries/NAME.sql`, shipped with the package. */
export const QUERIES_DIR = join(SQL_DIR, 'queries');

/** A shipped query: its name and the first line of its leading comment. */
export interface NamedQuery {
  name: string;
  description: string;
}

/** Reads the audit log. `prune` needs a writable database; the rest work on a read-only one. */
export interface AuditQuery {
  /** the most recent rows the filter selects (up to `limit`), oldest first, with sandbox names */
  list(filter: RequestFilter): ListedRequest[];
  /** totals over every row the filter selects (`limit` does not apply) */
  summary(filter: RequestFilter): RequestSummary;
  /** runs `sql/queries/NAME.sql` over the rows the filter selects */
  named(name: string, filter: RequestFilter): QueryResult;
  /** runs one read-only statement as given */
  sql(sql: string): QueryResult;
  /** what `prune(before)` would delete */
  prunable(before: string): PruneCandidates;
  /** deletes finished rows that started before `before` (ISO 8601 UTC); returns how many */
  prune(before: string): number;
  /** true when a sandbox record or request row knows this sandbox id or name */
  knowsSandbox(idOrName: string): boolean;
  /** true when a request row names this service */
  knowsService(name: string): boolean;
  /** what the log could not keep: rows lost to write failures, rows pruned to stay under its cap */
  gaps(): GapSummary;
  /** the database file and its WAL, in bytes */
  diskBytes(): number;
}

export interface AuditQueryOptions {
  db: Db;
  /** folder of named queries (omitted = QUERIES_DIR) */
  queriesDir?: string;
}

export function createAuditQuery(options: AuditQueryOptions): AuditQuery {
  const { db } = options;
  const dir = options.queriesDir ?? QUERIES_DIR;
  const records = new AuditRecords(db);
  const space = new AuditSpace(db);
  return {
    list: (filter) => records.list(filter),
    summary: (filter) => records.summary(filter),
    named(name, filter) {
      const known = listNamedQueries(dir);
      if (!known.some((q) => q.name === name)) {
        throw new AirlockError('AIRLOCK_ERR_AUDIT_QUERY', `no audit query named "${name}"`, {
          hint: `named queries: ${known.map((q) => q.name).join(', ')}`,
        });
      }
      const sql = readFileSync(join(dir, `${name}.sql`), 'utf8');
      return runReadOnly(db, withSelected(sql), { ...filterParams(filter) });
    },
    sql: (sql) => runReadOnly(db, sql),
    prunable: (before) => records.prunable(before),
    prune: (before) => records.prune(before),
    knowsSandbox: (idOrName) => records.knowsSandbox(idOrName),
    knowsService: (name) => records.knowsService(name),
    gaps: () => space.gaps(),
    diskBytes: () => space.diskBytes(),
  };
}

/**
 * Opens the audit log in `home` for a command: read-only with `PRAGMA query_only` (list,
 * summary, named queries, --sql), or writable when it will prune. `close` closes the database.
 */
export function openAuditQuery(options: {
  home: string;
  writable?: boolean;
}): AuditQuery & { close(): void } {
  const db = options.writable
    ? openDatabase({ home: options.home })
    : openQueryDatabase({ home: options.home });
  return { ...createAuditQuery({ db }), close: () => db.close() };
}

/** The shipped named queries, sorted by name. */
export function listNamedQueries(dir = QUERIES_DIR): NamedQuery[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^[a-z0-9][a-z0-9-]*\.sql$/.test(f))
    .sort()
    .map((f) => {
      const first = readFileSync(join(dir, f), 'utf8').split('\n')[0] ?? '';
      return { name: f.slice(0, -4), description: first.startsWith('--') ? first.slice(2).trim() : '' };
    });
}

const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/** Parses a duration such as `90s`, `15m`, `2h`, `1d`, `4w` into ms; `flag` names it in errors. */
export function parseDuration(value: string, flag: string): number {
  const m = /^(\d{1,9})([smhdw])$/.exec(value.trim());
  if (!m) {
    throw new AirlockError(
      'AIRLOCK_ERR_USAGE',
      `${flag} ${value}: expected a duration like 15m, 2h, 1d or 4w`,
    );
  }
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/**
 * Parses a `--since`/`--until` value into an ISO 8601 UTC time: a duration before `now`
 * (`15m`), or an ISO 8601 date or time (`2025-06-01`, `2025-06-01T12:00:00Z`; without an
 * offset a time of day is local time).
 */
export function parseTime(value: string, flag: string, now = Date.now()): string {
  if (/^\d+[a-z]+$/i.test(value.trim())) return new Date(now - parseDuration(value, flag)).toISOString();
  const iso = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;
  const ms = iso.test(value.trim()) ? Date.parse(value.trim().replace(' ', 'T')) : NaN;
  if (Number.isNaN(ms)) {
    throw new AirlockError(
      'AIRLOCK_ERR_USAGE',
      `${flag} ${value}: expected a duration like 15m, 2h, 1d, or an ISO 8601 time like 2025-06-01T12:00:00Z`,
    );
  }
  return new Date(ms).toISOString();
}
