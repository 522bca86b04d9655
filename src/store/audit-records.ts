import type { Statement } from 'better-sqlite3';
import type { Db } from './database.js';

/** How a request ended; NULL in the table while it is in flight. */
export type RequestDecision = 'allowed' | 'denied' | 'error' | 'unknown';

/** The columns known before a request goes upstream. Never a secret value. */
export interface IntentRow {
  sandbox: string;
  service: string | null;
  /** the credential's env var NAME */
  credential: string | null;
  method: string;
  host: string;
  path: string;
  /** already redacted */
  query: string | null;
  /** ISO 8601 UTC */
  startedAt: string;
}

/** A request refused before it went anywhere: intent and outcome in one row. */
export interface DeniedRow extends IntentRow {
  status: number;
  reason: string;
  endedAt: string;
}

/** The outcome of an in-flight row. */
export interface OutcomeRow {
  id: number;
  decision: 'allowed' | 'error';
  status: number;
  reason: string | null;
  bytesIn: number;
  bytesOut: number;
  ttfbMs: number | null;
  durationMs: number;
  model: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  endedAt: string;
}

/** One row of the requests table (null decision = in flight). */
export interface RequestRecord extends IntentRow {
  id: number;
  status: number | null;
  decision: RequestDecision | null;
  reason: string | null;
  bytesIn: number | null;
  bytesOut: number | null;
  ttfbMs: number | null;
  durationMs: number | null;
  model: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  endedAt: string | null;
}

/** A row as `list` shows it: with the sandbox's name (null = unnamed, or its record is gone). */
export interface ListedRequest extends RequestRecord {
  sandboxName: string | null;
}

/** What a prune with a cut-off would delete. */
export interface PruneCandidates {
  /** finished rows that started before the cut-off */
  requests: number;
  /** the earliest start among them (null = none) */
  oldest: string | null;
}

/** Which rows `list` and `summary` look at; every field is optional (omitted = any). */
export interface RequestFilter {
  /** a sandbox id or name */
  sandbox?: string;
  service?: string;
  /** ISO 8601 UTC, inclusive */
  since?: string;
  /** ISO 8601 UTC, exclusive */
  until?: string;
  /** `pending` selects the rows still in flight */
  decision?: RequestDecision | 'pending';
  status?: number;
  /** most recent rows returned by `list` (omitted = all) */
  limit?: number;
}

/** Totals over the rows a filter selects. */
export interface RequestSummary {
  requests: number;
  denied: number;
  /** decision error or unknown, or allowed with an upstream status >= 400 */
  errors: number;
  inFlight: number;
  inputTokens: number;
  outputTokens: number;
}

/** The named parameters every filter query (and every named query in sql/queries/) may use. */
export interface FilterParams {
  sandbox: string | null;
  service: string | null;
  since: string;
  until: string;
  decision: string | null;
  status: number | null;
  limit: number;
}

/** Turns a filter into the named parameters of the filter statements. */
export function filterParams(filter: RequestFilter): FilterParams {
  return {
    sandbox: filter.sandbox ?? null,
    service: filter.service ?? null,
    // '' sorts before and '~' after every ISO timestamp, so the index range is always usable
    since: filter.since ?? '',
    until: filter.until ?? '~',
    decision: filter.decision ?? null,
    status: filter.status ?? null,
    limit: filter.limit ?? -1,
  };
}

/** The reason of a row whose airlock process ended before its response did. */
const UNFINISHED_REASON = 'no outcome recorded: airlock stopped before the response ended';

const FILTER = `
  started_at >= @since AND started_at < @until
  AND (@sandbox IS NULL OR sandbox = @sandbox OR sandbox IN (SELECT id FROM sandboxes WHERE name = @sandbox))
  AND (@service IS NULL OR service = @service)
  AND (@decision IS NULL OR decision = @decision OR (@decision = 'pending' AND decision IS NULL))
  AND (@status IS NULL OR status = @status)`;

/**
 * Wraps a named query so that it reads `selected`: the requests rows the filter picks. Named
 * queries in sql/queries/ are written against `selected` (and must not start with WITH).
 */
export function withSelected(sql: string): string {
  return `WITH selected AS (SELECT * FROM requests WHERE ${FILTER})\n${sql}`;
}

export const COLUMNS = `id, sandbox, service, credential, method, host, path, query, status, decision, reason,
  bytes_in AS bytesIn, bytes_out AS bytesOut, ttfb_ms AS ttfbMs, duration_ms AS durationMs, model,
  input_tokens AS inputTokens, output_tokens AS outputTokens, started_at AS startedAt, ended_at AS endedAt`;

/** The `requests` table: the audit writer's inserts and updates, and the CLI's reads. */
export class AuditRecords {
  readonly #db: Db;
  readonly #insertIntent: Statement;
  readonly #insertDenied: Statement;
  readonly #finish: Statement;
  readonly #recover: Statement;
  readonly #list: Statement;
  readonly #summary: Statement;
  readonly #prune: Statement;
  readonly #prunable: Statement;
  readonly #knownSandbox: Statement;
  readonly #knownService: Statement;

  constructor(db: Db) {
    this.#db = db;
    this.#insertIntent = db.prepare(
      `INSERT INTO requests (sandbox, service, credential, method, host, path, query, started_at)
       VALUES (@sandbox, @service, @credential, @method, @host, @path, @query, @startedAt)`,
    );
    this.#insertDenied = db.prepare(
      `INSERT INTO requests (sandbox, service, credential, method, host, path, query, status, decision, reason,
         bytes_in, bytes_out, duration_ms, started_at, ended_at)
       VALUES (@sandbox, @service, @credential, @method, @host, @path, @query, @status, 'denied', @reason,
         0, 0, 0, @startedAt, @endedAt)`,
    );
    // `decision IS NULL`: an outcome is recorded once, and never over a recovered 'unknown'
    this.#finish = db.prepare(
      `UPDATE requests SET decision = @decision, status = @status, reason = @reason, bytes_in = @bytesIn,
         bytes_out = @bytesOut, ttfb_ms = @ttfbMs, duration_ms = @durationMs, model = @model,
         input_tokens = @inputTokens, output_tokens = @outputTokens, ended_at = @endedAt
       WHERE id = @id AND decision IS NULL`,
    );
    // A live sandbox may belong to another airlock process that is still serving it; the
    // sandbox gc ends the records of dead owners, after which their rows are recovered here.
    this.#recover = db.prepare(
      `UPDATE requests SET decision = 'unknown', reason = @reason, ended_at = @endedAt
       WHERE decision IS NULL AND sandbox NOT IN (SELECT id FROM sandboxes WHERE ended_at IS NULL)`,
    );
    this.#list = db.prepare(
      `SELECT ${COLUMNS}, (SELECT name FROM sandboxes WHERE sandboxes.id = requests.sandbox) AS sandboxName
       FROM requests WHERE ${FILTER} ORDER BY started_at DESC, id DESC LIMIT @limit`,
    );
    this.#summary = db.prepare(
      `SELECT count(*) AS requests,
         coalesce(sum(decision = 'denied'), 0) AS denied,
         coalesce(sum(decision IN ('error', 'unknown') OR (decision = 'allowed' AND status >= 400)), 0) AS errors,
         coalesce(sum(decision IS NULL), 0) AS inFlight,
         coalesce(sum(input_tokens), 0) AS inputTokens,
         coalesce(sum(output_tokens), 0) AS outputTokens
       FROM requests WHERE ${FILTER}`,
    );
    this.#prune = db.prepare('DELETE FROM requests WHERE started_at < ? AND decision IS NOT NULL');
    this.#prunable = db.prepare(
      'SELECT count(*) AS requests, min(started_at) AS oldest FROM requests WHERE started_at < ? AND decision IS NOT NULL',
    );
    // cheap: sandboxes is small, and requests has (sandbox, …) and (service, …) indexes
    this.#knownSandbox = db
      .prepare(
        `SELECT EXISTS (SELECT 1 FROM sandboxes WHERE id = @v OR name = @v)
           OR EXISTS (SELECT 1 FROM requests WHERE sandbox = @v)`,
      )
      .pluck();
    this.#knownService = db.prepare('SELECT EXISTS (SELECT 1 FROM requests WHERE service = ?)').pluck();
  }

  /** Runs `fn` in one IMMEDIATE transaction (one commit, one fsync under synchronous=FULL). */
  batch<T>(fn: () => T): T {
    return this.#db.transaction(fn).immediate();
  }

  /** Inserts an in-flight row and returns its id. */
  insertIntent(row: IntentRow): number {
    return Number(this.#insertIntent.run(row).lastInsertRowid);
  }

  insertDenied(row: DeniedRow): number {
    return Number(this.#insertDenied.run(row).lastInsertRowid);
  }

  /** Records the outcome of an in-flight row; false when it had one already. */
  finish(row: OutcomeRow): boolean {
    return this.#finish.run(row).changes === 1;
  }

  /** Marks in-flight rows of sandboxes no live process serves as `unknown`; returns how many. */
  recoverUnfinished(endedAt = new Date().toISOString()): number {
    return this.#recover.run({ endedAt, reason: UNFINISHED_REASON }).changes;
  }

  /** The most recent rows the filter selects, oldest first. */
  list(filter: RequestFilter): ListedRequest[] {
    return (this.#list.all(filterParams(filter)) as ListedRequest[]).reverse();
  }

  summary(filter: RequestFilter): RequestSummary {
    return this.#summary.get(filterParams(filter)) as RequestSummary;
  }

  /** What `prune(before)` would delete, without deleting it. */
  prunable(before: string): PruneCandidates {
    return this.#prunable.get(before) as PruneCandidates;
  }

  /** True when a sandbox record has this id or name, or a request row this sandbox id. */
  knowsSandbox(idOrName: string): boolean {
    return this.#knownSandbox.get({ v: idOrName }) === 1;
  }

  /** True when a request row names this service. */
  knowsService(name: string): boolean {
    return this.#knownService.get(name) === 1;
  }

  /** Deletes finished rows that started before `before` (ISO); returns how many. */
  prune(before: string): number {
    return this.#prune.run(before).changes;
  }
}
