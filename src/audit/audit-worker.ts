/**
 * The audit writer's thread: it owns its own connection to airlock.db and runs the group-commit
 * writer there, so a FULL commit's fsync never stalls the proxy's event loop. Messages come in
 * batches (one per tick of the main thread) and answers go back in batches (one per commit).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AirlockError } from '../errors.js';
import { BudgetRecords } from '../store/budget-records.js';
import { SandboxChanges } from '../store/sandbox-changes.js';
import { openDatabase } from '../store/database.js';
import type { AuditEntry } from './sink.js';
import { createAuditWriter } from './writer.js';
import type { ToMain, ToWorker, WorkerConfig } from './worker-protocol.js';

const port = parentPort!;
let outbox: ToMain[] = [];
let scheduled = false;

/**
 * Batches what one turn of work answers (a commit's acknowledgements, a message batch's
 * replies) into one message. A microtask, not setImmediate: the acknowledgements of a commit
 * leave as soon as it has, not one turn of this thread's loop later, while a proxy waits.
 */
function send(message: ToMain): void {
  outbox.push(message);
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(() => {
    scheduled = false;
    const batch = outbox;
    outbox = [];
    port.postMessage(batch);
  });
}

const errorOf = (e: unknown) =>
  e instanceof AirlockError
    ? { code: e.code, message: e.message, hint: e.hint }
    : { code: 'AIRLOCK_ERR_AUDIT_WRITE' as const, message: String(e) };

/** Opens the database and serves the main thread's batches. */
function serve(config: WorkerConfig): void {
  const db = openDatabase({
    home: config.home,
    synchronous: config.synchronous,
    busyTimeoutMs: config.busyTimeoutMs,
  });
  const writer = createAuditWriter({
    db,
    maxBytes: config.maxBytes,
    onError: (e) => send({ t: 'error', error: errorOf(e) }),
    onPrune: (rows, upTo) => send({ t: 'prune', rows, upTo }),
  });
  const budgets = new BudgetRecords(db);
  const changes = new SandboxChanges(db);
  const entries = new Map<number, AuditEntry>();
  send({ t: 'opened', synchronous: db.pragma('synchronous', { simple: true }) as number });

  port.on('message', (batch: ToWorker[]) => {
    for (const m of batch) {
      switch (m.t) {
        case 'intent':
          writer.intent(m.request).then(
            (entry) => {
              entries.set(entry.id, entry);
              send({ t: 'intent', seq: m.seq, id: entry.id });
            },
            (e: unknown) => send({ t: 'intent', seq: m.seq, error: errorOf(e) }),
          );
          break;
        case 'finish':
          entries.get(m.id)?.finish(m.outcome);
          entries.delete(m.id);
          break;
        case 'denied':
          writer.denied(m.request);
          break;
        case 'budgets':
          try {
            budgets.save(m.records);
          } catch (e) {
            send({ t: 'error', error: errorOf(e) });
          }
          break;
        case 'change':
          try {
            changes.record(m.change);
            send({ t: 'done', seq: m.seq, value: 0 });
          } catch (e) {
            send({ t: 'done', seq: m.seq, value: 0, error: errorOf(e) });
          }
          break;
        case 'flush':
          void writer.flush().then(() => send({ t: 'done', seq: m.seq, value: 0 }));
          break;
        case 'close':
          void writer.close().then(() => {
            db.close();
            port.postMessage([...outbox, { t: 'done', seq: m.seq, value: 0 }]);
            outbox = [];
            port.close();
          });
          break;
      }
    }
  });
}

// a thread booted ahead of its engine (bootAuditThread) is sent its configuration first
if (workerData === null) port.once('message', (config: WorkerConfig) => serve(config));
else serve(workerData as WorkerConfig);
