import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readdirSync } from 'node:fs';
import { once } from 'node:events';
import { bootAuditThread, startAuditThread } from '../src/audit/threaded-writer.js';
import { AuditRecords } from '../src/store/audit-records.js';
import { isAirlockError } from '../src/errors.js';
import { anIntent, anOutcome, openTempDb } from './helpers/audit-db.js';

test('the audit thread answers an intent only once its row is committed', async (t) => {
  const { home, db } = openTempDb(t); // another connection, as the engine's main thread has
  const audit = startAuditThread({ home, synchronous: 'FULL' });
  t.after(() => audit.close());
  const rowOf = db.prepare('SELECT path, decision, status FROM requests WHERE id = ?');
  assert.equal((await audit.opened).synchronous, 2, "the thread's connection runs with FULL");

  const entries = await Promise.all([1, 2, 3].map((i) => audit.intent(anIntent({ path: `/v1/${i}` }))));
  // read at once, from the other connection: the rows are already there
  assert.deepEqual(
    entries.map((e) => rowOf.get(e.id)),
    [1, 2, 3].map((i) => ({ path: `/v1/${i}`, decision: null, status: null })),
  );
  entries[0]!.finish(anOutcome({ status: 201 }));
  audit.denied({ ...anIntent({ path: '/denied' }), status: 403, reason: 'airlock_policy_denied' });
  await audit.flush();
  assert.deepEqual(rowOf.get(entries[0]!.id), { path: '/v1/1', decision: 'allowed', status: 201 });
  assert.equal(db.prepare("SELECT status FROM requests WHERE path = '/denied'").pluck().get(), 403);
});

test('a database locked past the busy timeout: the thread refuses the intents with 503', async (t) => {
  const { home, db } = openTempDb(t);
  const audit = startAuditThread({ home, synchronous: 'FULL', busyTimeoutMs: 100 });
  t.after(() => audit.close());
  await audit.opened; // the thread has opened its connection

  db.exec('BEGIN EXCLUSIVE');
  const results = await Promise.allSettled(
    [1, 2].map((i) => audit.intent(anIntent({ path: `/locked/${i}` }))),
  );
  db.exec('ROLLBACK');
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    const error: unknown = r.reason;
    assert.ok(isAirlockError(error), String(error));
    assert.equal(error.code, 'AIRLOCK_ERR_AUDIT_WRITE');
    assert.equal(error.status, 503);
    assert.match(error.message, /SQLITE_BUSY/);
  }
  assert.equal(db.prepare("SELECT count(*) FROM requests WHERE path LIKE '/locked/%'").pluck().get(), 0);

  // the lock is gone: the next intent commits
  const entry = await audit.intent(anIntent({ path: '/unlocked' }));
  assert.equal(db.prepare('SELECT path FROM requests WHERE id = ?').pluck().get(entry.id), '/unlocked');
});

test("a closed thread refuses intents; its rows left in flight are recovered on the engine's connection", async (t) => {
  const { home, db } = openTempDb(t);
  const first = startAuditThread({ home, synchronous: 'NORMAL' });
  await first.intent(anIntent({ sandboxId: 'gone', path: '/in-flight' }));
  await first.close();
  await assert.rejects(first.intent(anIntent()), (e: unknown) => isAirlockError(e) && e.status === 503);

  assert.equal(new AuditRecords(db).recoverUnfinished(), 1);
  assert.equal(
    db.prepare("SELECT decision FROM requests WHERE path = '/in-flight'").pluck().get(),
    'unknown',
  );
});

/** Threads of this process, as the kernel counts them. */
const threads = () => readdirSync('/proc/self/task').length;

test('the thread starts at its first message or start(), not before; one never started closes at once', async (t) => {
  const { home, db } = openTempDb(t);
  const before = threads();
  const idle = startAuditThread({ home, synchronous: 'FULL' });
  await idle.flush(); // nothing was sent: nothing to commit, no thread needed
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(threads(), before, 'no thread before the first message');
  await idle.close();
  await assert.rejects(idle.intent(anIntent()), (e: unknown) => isAirlockError(e) && e.status === 503);
  assert.equal(threads(), before, 'closing a service never started starts no thread');

  const used = startAuditThread({ home, synchronous: 'FULL' });
  t.after(() => used.close());
  const entry = await used.intent(anIntent({ path: '/first' })); // starts it, and waits for it
  assert.ok(threads() > before, 'the first intent started the thread');
  assert.equal(db.prepare('SELECT path FROM requests WHERE id = ?').pluck().get(entry.id), '/first');

  const started = startAuditThread({ home, synchronous: 'FULL' });
  t.after(() => started.close());
  const running = threads();
  started.start();
  assert.ok(threads() > running, 'start() boots the thread ahead of any row');
});

test('a thread booted before its configuration is adopted: it opens the database it is then given', async (t) => {
  const { home, db } = openTempDb(t);
  const booted = bootAuditThread();
  booted.worker.ref(); // it does not keep a process alive; this test waits for it
  t.after(() => booted.worker.terminate());
  await once(booted.worker, 'online');
  const audit = startAuditThread({ home, synchronous: 'NORMAL', booted });
  t.after(() => audit.close());
  assert.equal((await audit.opened).synchronous, 1, 'its connection runs with the NORMAL it was given');
  assert.equal(booted.worker.listenerCount('message'), 1, 'the booted thread is the one adopted');
  const entry = await audit.intent(anIntent({ path: '/booted' }));
  assert.equal(db.prepare('SELECT path FROM requests WHERE id = ?').pluck().get(entry.id), '/booted');
});

test('a booted thread that stopped before it was adopted refuses intents with 503; none waits forever', async (t) => {
  const { home } = openTempDb(t);
  const booted = bootAuditThread();
  booted.worker.ref();
  await booted.worker.terminate();
  assert.match(booted.ended ?? '', /exit/);
  const audit = startAuditThread({ home, synchronous: 'FULL', booted });
  await assert.rejects(
    audit.intent(anIntent()),
    (e: unknown) => isAirlockError(e) && e.status === 503 && /exit/.test(e.message),
  );
  await audit.close();
});
