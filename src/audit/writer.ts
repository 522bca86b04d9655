import { AirlockError } from '../errors.js';
import { AuditRecords, type DeniedRow, type IntentRow, type OutcomeRow } from '../store/audit-records.js';
import { AuditSpace } from '../store/audit-space.js';
import type { Db } from '../store/database.js';
import { createQueryRedactor, DEFAULT_REDACT_PARAMS } from './redact.js';
import type { AuditEntry, AuditSink, DeniedRequest, RequestIntent, RequestOutcome } from './sink.js';
import { createSizeCap, DEFAULT_AUDIT_MAX_BYTES } from './size-cap.js';

/** How many rows of each kind one committed transaction held. */
export interface BatchStats {
  intents: number;
  outcomes: number;
  denials: number;
}

export interface AuditWriterOptions {
  /** an open airlock.db (see openDatabase); the writer never closes it */
  db: Db;
  /** query parameters whose values are stored as REDACTED (omitted = DEFAULT_REDACT_PARAMS) */
  redactParams?: Iterable<string>;
  /** called after each commit (metrics, tests) */
  onCommit?: (batch: BatchStats) => void;
  /**
   * called when rows are given up on: outcomes and denials after their retries (their rows
   * become `unknown` at the next start), intents that could not be committed (the request was
   * refused, 503). Each loss is also recorded in `audit_gaps` once the log takes writes again.
   * (omitted = one line on stderr)
   */
  onError?: (error: AirlockError) => void;
  /** the cap on the database file plus its WAL, in bytes (omitted = DEFAULT_AUDIT_MAX_BYTES) */
  maxBytes?: number;
  /** called after the oldest rows were pruned to stay under the cap (omitted = one line on stderr) */
  onPrune?: (rows: number, upTo: string | undefined) => void;
  /** attempts for an outcome or denial whose transaction failed (omitted = 3) */
  attempts?: number;
  /** wait before retrying outcomes and denials alone, in ms (omitted = 200) */
  retryDelayMs?: number;
  /**
   * how long outcomes and denials wait for an intent to share their commit, in ms (omitted =
   * 5): nothing waits on them, and under load an intent comes within that, so the fsync that
   * an intent needs anyway records them too
   */
  lateWriteDelayMs?: number;
}

/** The audit sink over SQLite, plus what the process that owns it needs at start and stop. */
export interface AuditWriter extends AuditSink {
  /**
   * Marks rows left in flight by a crashed run as `unknown` (rows of sandboxes still live in
   * the sandboxes table are left alone: another airlock process may be serving them; run the
   * sandbox gc first). Call once at start, before serving. Returns how many rows it marked.
   */
  recoverUnfinished(): number;
  /** resolves once everything queued so far has had its commit attempt (failed outcomes may still be retried) */
  flush(): Promise<void>;
  /** commits what is queued and refuses new intents; the database stays open */
  close(): Promise<void>;
}

interface PendingIntent {
  row: IntentRow;
  resolve: (entry: AuditEntry) => void;
  reject: (error: AirlockError) => void;
}

type PendingWrite = { attempts: number } & (
  { kind: 'outcome'; row: OutcomeRow } | { kind: 'denied'; row: DeniedRow }
);

/** Longest text kept in a column; longer values are cut (paths and reasons are for people). */
const MAX_TEXT = 4096;

/**
 * Creates the audit writer. Group commit: everything that arrives within one tick of the event
 * loop — intents, outcomes, denials — is written in one IMMEDIATE transaction, so under
 * `synchronous=FULL` a burst of N requests costs one fsync instead of N. `intent` resolves only
 * after that commit; if it fails (disk full, database locked past the busy timeout) every
 * intent of the batch rejects with AIRLOCK_ERR_AUDIT_WRITE (status 503) and the proxy must not
 * forward. Outcomes and denials never block a response; a failed one is retried with the next
 * batch, then reported to `onError`.
 */
export function createAuditWriter(options: AuditWriterOptions): AuditWriter {
  const records = new AuditRecords(options.db);
  const space = new AuditSpace(options.db);
  const onError =
    options.onError ??
    ((e: AirlockError) => process.stderr.write(`airlock: audit: ${e.message} [${e.code}]\n`));
  const maxBytes = options.maxBytes ?? DEFAULT_AUDIT_MAX_BYTES;
  const cap = createSizeCap({
    space,
    maxBytes,
    transaction: (fn) => records.batch(fn),
    onPrune:
      options.onPrune ??
      ((rows, upTo) =>
        process.stderr.write(
          `airlock: audit: pruned the ${rows} oldest rows (started up to ${upTo ?? '?'}) to stay under audit.maxBytes (${maxBytes} bytes)\n`,
        )),
  });
  /** rows given up on since the last commit that could record it */
  let lost: { rows: number; reason: string } | undefined;
  const loseRows = (rows: number, error: AirlockError) => {
    lost = { rows: (lost?.rows ?? 0) + rows, reason: error.message };
  };
  const redact = createQueryRedactor(options.redactParams ?? DEFAULT_REDACT_PARAMS);
  const maxAttempts = options.attempts ?? 3;
  const retryDelayMs = options.retryDelayMs ?? 200;
  let intents: PendingIntent[] = [];
  let writes: PendingWrite[] = [];
  let waiters: (() => void)[] = [];
  const lateWriteDelayMs = options.lateWriteDelayMs ?? 5;
  let immediate: NodeJS.Immediate | undefined;
  let lateTimer: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let closed = false;

  /** commits at the end of this tick: someone waits for it */
  const schedule = () => {
    immediate ??= setImmediate(commit);
  };
  /**
   * commits with the next intent, or after lateWriteDelayMs; even then at the end of the tick,
   * not in the timers phase: an intent read in this tick's poll phase (the audit thread's
   * messages) rides along instead of waiting for a second fsync
   */
  const scheduleLate = () => {
    if (immediate === undefined) {
      lateTimer ??= setTimeout(() => {
        lateTimer = undefined;
        schedule();
      }, lateWriteDelayMs);
    }
  };

  function commit(): void {
    immediate = undefined;
    if (lateTimer) clearTimeout(lateTimer);
    lateTimer = undefined;
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = undefined;
    const batch = intents;
    const batchWrites = writes;
    const done = waiters;
    intents = [];
    writes = [];
    waiters = [];
    if (batch.length > 0 || batchWrites.length > 0 || lost) {
      let ids: number[] | undefined;
      try {
        ids = records.batch(() => {
          const inserted = batch.map((p) => records.insertIntent(p.row));
          for (const w of batchWrites) {
            if (w.kind === 'outcome') records.finish(w.row);
            else records.insertDenied(w.row);
          }
          if (lost) space.recordGap('lost', lost.rows, lost.reason, new Date().toISOString());
          return inserted;
        });
        lost = undefined;
      } catch (cause) {
        const error = writeError(cause);
        for (const p of batch) p.reject(error);
        if (batch.length > 0) {
          loseRows(batch.length, error);
          onError(
            new AirlockError(
              'AIRLOCK_ERR_AUDIT_WRITE',
              `${batch.length} request(s) refused with 503, unrecorded: ${error.message}`,
              { cause: error },
            ),
          );
        }
        retry(batchWrites, error);
      }
      if (ids) {
        try {
          cap.enforce();
        } catch (cause) {
          onError(writeError(cause));
        }
        const committed = ids;
        batch.forEach((p, i) => p.resolve(createEntry(committed[i]!)));
        try {
          options.onCommit?.({
            intents: batch.length,
            outcomes: batchWrites.filter((w) => w.kind === 'outcome').length,
            denials: batchWrites.filter((w) => w.kind === 'denied').length,
          });
        } catch {
          // a metrics hook must not turn a commit into a failure
        }
      }
    }
    for (const w of done) w();
  }

  /** Requeues failed outcomes and denials; alone they wait a little, so a lock can clear. */
  function retry(failed: PendingWrite[], error: AirlockError): void {
    const again = failed.filter((w) => ++w.attempts < maxAttempts && !closed);
    const lost = failed.length - again.length;
    if (lost > 0) {
      loseRows(lost, error);
      onError(
        new AirlockError(
          'AIRLOCK_ERR_AUDIT_WRITE',
          `${lost} audit outcome(s) or denial(s) lost: ${error.message}`,
          {
            cause: error,
          },
        ),
      );
    }
    if (again.length === 0) return;
    writes.unshift(...again);
    retryTimer ??= setTimeout(commit, retryDelayMs);
  }

  function createEntry(id: number): AuditEntry {
    let finished = false;
    return {
      id,
      finish(outcome: RequestOutcome): void {
        if (finished) return;
        finished = true;
        enqueue({ kind: 'outcome', attempts: 0, row: outcomeRow(id, outcome) });
      },
    };
  }

  function enqueue(write: PendingWrite): void {
    if (closed) {
      onError(new AirlockError('AIRLOCK_ERR_AUDIT_WRITE', `audit ${write.kind} after the writer was closed`));
      return;
    }
    writes.push(write);
    scheduleLate();
  }

  function intentRow(request: RequestIntent): IntentRow {
    return {
      sandbox: text(request.sandboxId),
      service: optionalText(request.service),
      credential: optionalText(request.credential),
      method: text(request.method),
      host: text(request.host),
      path: text(request.path),
      query: optionalText(redact(request.query) ?? undefined),
      startedAt: iso(request.startedAt),
    };
  }

  return {
    intent(request: RequestIntent): Promise<AuditEntry> {
      if (closed) {
        return Promise.reject(new AirlockError('AIRLOCK_ERR_AUDIT_WRITE', 'the audit writer is closed'));
      }
      if (cap.full) {
        return Promise.reject(
          new AirlockError(
            'AIRLOCK_ERR_AUDIT_WRITE',
            `the audit log is at its size cap (audit.maxBytes = ${maxBytes} bytes) and every row in it is still in flight`,
          ),
        );
      }
      const row = intentRow(request);
      return new Promise((resolve, reject) => {
        intents.push({ row, resolve, reject });
        schedule();
      });
    },

    denied(request: DeniedRequest): void {
      enqueue({
        kind: 'denied',
        attempts: 0,
        row: {
          ...intentRow(request),
          status: whole(request.status) ?? 0,
          reason: text(request.reason),
          endedAt: new Date().toISOString(),
        },
      });
    },

    recoverUnfinished(): number {
      return records.recoverUnfinished();
    },

    flush(): Promise<void> {
      if (intents.length === 0 && writes.length === 0) return Promise.resolve();
      return new Promise((resolve) => {
        waiters.push(resolve);
        schedule();
      });
    },

    close(): Promise<void> {
      closed = true;
      if (immediate) clearImmediate(immediate);
      commit();
      return Promise.resolve();
    },
  };
}

function outcomeRow(id: number, o: RequestOutcome): OutcomeRow {
  return {
    id,
    decision: o.decision,
    status: whole(o.status) ?? 0,
    reason: optionalText(o.reason),
    bytesIn: whole(o.bytesIn) ?? 0,
    bytesOut: whole(o.bytesOut) ?? 0,
    ttfbMs: whole(o.ttfbMs),
    durationMs: whole(o.durationMs) ?? 0,
    model: optionalText(o.usage?.model),
    inputTokens: whole(o.usage?.inputTokens),
    outputTokens: whole(o.usage?.outputTokens),
    endedAt: iso(o.endedAt),
  };
}

function writeError(cause: unknown): AirlockError {
  const code = (cause as { code?: unknown }).code;
  const detail = `${typeof code === 'string' ? `${code}: ` : ''}${cause instanceof Error ? cause.message : String(cause)}`;
  return new AirlockError(
    'AIRLOCK_ERR_AUDIT_WRITE',
    `cannot record the request in the audit log (${detail})`,
    {
      cause,
      hint: 'free disk space under AIRLOCK_HOME, or find the process holding airlock.db locked',
    },
  );
}

// Values are coerced here, before the transaction, so one odd value cannot fail a whole batch.

function text(value: string): string {
  const s = String(value);
  return s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT - 1)}…` : s;
}

function optionalText(value: string | undefined): string | null {
  return value === undefined || value === '' ? null : text(value);
}

/** a non-negative whole number, or null */
function whole(value: number | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.round(value) : null;
}

function iso(epochMs: number): string {
  const d = new Date(epochMs);
  return Number.isNaN(d.getTime()) ? new Date().toISOString() : d.toISOString();
}
