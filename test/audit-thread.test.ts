import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startAuditThread } from '../src/audit/threaded-writer.js';
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
  await audit.flush(); // the thread has opened its connection

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

test('recoverUnfinished marks rows left in flight, and a closed thread refuses intents', async (t) => {
  const { home, db } = openTempDb(t);
  const first = startAuditThread({ home, synchronous: 'NORMAL' });
  await first.intent(anIntent({ sandboxId: 'gone', path: '/in-flight' }));
  await first.close();
  await assert.rejects(first.intent(anIntent()), (e: unknown) => isAirlockError(e) && e.status === 503);

  const second = startAuditThread({ home, synchronous: 'NORMAL' });
  t.after(() => second.close());
  assert.equal(await second.recoverUnfinished(), 1);
  assert.equal(
    db.prepare("SELECT decision FROM requests WHERE path = '/in-flight'").pluck().get(),
    'unknown',
  );
});
