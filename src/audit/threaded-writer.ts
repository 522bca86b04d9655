import { Worker } from 'node:worker_threads';
import { AirlockError } from '../errors.js';
import type { BudgetRecord } from '../store/budget-records.js';
import type { ChangeRecord } from '../store/sandbox-changes.js';
import type { AuditEntry, AuditSink, DeniedRequest, RequestIntent } from './sink.js';
import type { ToMain, ToWorker, WireError, WorkerConfig } from './worker-protocol.js';

export interface AuditThreadOptions extends WorkerConfig {
  /** a thread from `bootAuditThread`, booted while the caller loaded; adopted instead of a new one */
  booted?: BootedAuditThread;
  /** rows given up on, or requests refused because their row could not be written (omitted = stderr) */
  onError?: (error: AirlockError) => void;
  /** the oldest rows were pruned to stay under the cap (omitted = stderr) */
  onPrune?: (rows: number, upTo: string | undefined) => void;
}

/** The audit log as the engine uses it: a sink, plus what its owner needs at start and stop. */
export interface AuditService extends AuditSink {
  /** starts the thread now rather than at the first row, so that row does not wait for it */
  start(): void;
  /** stores budget state (sql/005_budgets.sql) on the audit thread, off the proxy's event loop */
  saveBudgets(records: BudgetRecord[]): void;
  /** records a live change to a sandbox; resolves once committed (the change takes effect after) */
  recordChange(change: ChangeRecord): Promise<void>;
  /** resolves once everything sent so far is committed (or given up on) */
  flush(): Promise<void>;
  /** commits what is queued and closes the database, then stops the thread (resolves without waiting for its teardown) */
  close(): Promise<void>;
  /** resolves once the thread has opened the database: its `PRAGMA synchronous` (2 = FULL); starts it */
  readonly opened: Promise<{ synchronous: number }>;
}

const toError = (e: WireError) => new AirlockError(e.code, e.message, e.hint ? { hint: e.hint } : {});

/**
 * The worker file is this one's sibling: dist/audit/audit-worker.js once built, or
 * dist/bin/audit-worker.js beside the bundles. Run from src/ (tests, under tsx), a worker does
 * not inherit tsx's module hooks, so it registers them first. A null config means the thread
 * waits for its configuration as its first message.
 */
function startWorker(config: WorkerConfig | null): Worker {
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./audit-worker.js', import.meta.url), { workerData: config });
  }
  const source = JSON.stringify(new URL('./audit-worker.ts', import.meta.url).href);
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return new Worker(`import(${tsx}).then(({ register }) => { register(); return import(${source}); });`, {
    eval: true,
    workerData: config,
  });
}

/**
 * Boots an audit thread before its engine exists, for `startAuditThread`'s `booted`: a
 * worker's boot costs ~100 ms of CPU, which `airlock run` spends on the other core while its
 * own bundle loads instead of while its guest starts. It holds no database until configured,
 * and does not keep the process alive.
 */
export function bootAuditThread(): BootedAuditThread {
  const booted = { worker: startWorker(null), ended: undefined as string | undefined };
  booted.worker.unref();
  // before it is adopted, nobody else listens
  booted.worker.once('error', (err) => (booted.ended ??= err.message));
  booted.worker.once('exit', (code) => (booted.ended ??= `exit ${code}`));
  return booted;
}

/** An audit thread booted ahead of its configuration; `ended` says why, if it stopped since. */
export interface BootedAuditThread {
  readonly worker: Worker;
  readonly ended: string | undefined;
}

/**
 * The audit writer on its own thread (audit-worker.ts): the proxy's event loop only posts
 * messages, so connections keep moving while a FULL commit waits for its fsync. The order
 * the proxy relies on is kept: `intent` resolves only after the worker committed the row.
 * If the thread dies, every pending and later intent is refused (the proxy answers 503).
 *
 * The thread starts at `start()` or at the first message, not here: booting a worker costs
 * ~100 ms of CPU, which on a small machine would otherwise compete with building the first
 * sandbox. A `booted` one is adopted here, and opens the database at once. One that was sent
 * nothing has nothing to flush or commit when it closes.
 */
export function startAuditThread(options: AuditThreadOptions): AuditService {
  const { onError, onPrune, booted, ...config } = options;
  const reportError =
    onError ?? ((e: AirlockError) => process.stderr.write(`airlock: audit: ${e.message} [${e.code}]\n`));
  const reportPrune =
    onPrune ??
    ((rows: number, upTo: string | undefined) =>
      process.stderr.write(
        `airlock: audit: pruned the ${rows} oldest rows (started up to ${upTo ?? '?'}) to stay under audit.maxBytes\n`,
      ));
  const pending = new Map<number, { resolve(value: number): void; reject(error: AirlockError): void }>();
  let seq = 0;
  let outbox: ToWorker[] = [];
  let dead: AirlockError | undefined;
  let closing: Promise<void> | undefined;
  let markOpened: (value: { synchronous: number }) => void = () => undefined;
  const opened = new Promise<{ synchronous: number }>((resolve) => (markOpened = resolve));

  let worker: Worker | undefined;
  let sent = false;
  const thread = () => {
    if (dead !== undefined || worker !== undefined) return;
    if (booted === undefined) worker = listen(startWorker(config));
    else if (booted.ended !== undefined) die(booted.ended);
    else {
      worker = listen(booted.worker);
      worker.postMessage(config); // the first message a booted thread waits for
    }
  };
  const flushOutbox = () => {
    const batch = outbox;
    outbox = [];
    if (batch.length === 0 || dead !== undefined) return;
    sent = true;
    thread();
    worker!.postMessage(batch);
  };
  // one message per turn of the event loop: the requests read in one poll phase travel together
  const post = (message: ToWorker) => {
    if (dead) return;
    if (outbox.length === 0) setImmediate(flushOutbox);
    outbox.push(message);
  };
  /** a request with an answer; rejects if the thread dies first */
  const ask = (t: 'intent' | 'flush' | 'close' | 'change', extra: object = {}) =>
    new Promise<number>((resolve, reject) => {
      if (dead) return reject(dead);
      const n = ++seq;
      pending.set(n, { resolve, reject });
      post({ t, seq: n, ...extra } as ToWorker);
    });

  const die = (reason: string) => {
    dead ??= new AirlockError('AIRLOCK_ERR_AUDIT_WRITE', `the audit thread stopped: ${reason}`);
    for (const waiter of pending.values()) waiter.reject(dead);
    pending.clear();
  };
  function listen(w: Worker): Worker {
    w.unref();
    w.on('message', (batch: ToMain[]) => {
      for (const m of batch) {
        if (m.t === 'error') reportError(toError(m.error));
        else if (m.t === 'prune') reportPrune(m.rows, m.upTo);
        else if (m.t === 'opened') markOpened({ synchronous: m.synchronous });
        else {
          const waiter = pending.get(m.seq);
          pending.delete(m.seq);
          if (m.error) waiter?.reject(toError(m.error));
          else waiter?.resolve(m.t === 'intent' ? m.id! : m.value);
        }
      }
    });
    w.on('error', (err) => {
      // a thrown non-Error class (better-sqlite3's SqliteError) arrives as a bare object
      die(err.message ?? (err as { code?: string }).code ?? String(err));
      reportError(dead!);
    });
    w.on('exit', (code) => die(`exit ${code}`));
    return w;
  }

  if (booted) thread(); // already booted: it opens the database while the sandbox is built
  return {
    start: thread,
    get opened() {
      thread();
      return opened;
    },
    async intent(request: RequestIntent): Promise<AuditEntry> {
      const id = await ask('intent', { request });
      let finished = false;
      return {
        id,
        finish(outcome) {
          if (finished) return;
          finished = true;
          post({ t: 'finish', id, outcome });
        },
      };
    },
    denied(request: DeniedRequest): void {
      post({ t: 'denied', request });
    },
    saveBudgets(records: BudgetRecord[]): void {
      post({ t: 'budgets', records });
    },
    recordChange: async (change: ChangeRecord) => {
      await ask('change', { change });
    },
    flush: async () => {
      if (sent || outbox.length > 0) await ask('flush');
    },
    // Resolves once everything is committed and the database closed. The thread's own teardown
    // (its heap and isolate, ~10 ms here) is not waited for: the caller needs nothing from it.
    close() {
      if (!sent && outbox.length === 0) {
        // nothing to commit: a thread still booting is stopped, and none starts later
        dead ??= new AirlockError('AIRLOCK_ERR_AUDIT_WRITE', 'the audit thread stopped: closed');
        void worker?.terminate();
        closing ??= Promise.resolve();
      }
      closing ??= ask('close').then(
        () => void worker!.terminate(),
        () => undefined, // already dead: nothing left to commit
      );
      return closing;
    },
  };
}
