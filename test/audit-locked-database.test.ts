import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAuditWriter } from '../src/audit/writer.js';
import { isAirlockError } from '../src/errors.js';
import { openDatabase } from '../src/store/database.js';
import { anIntent, openTempDb } from './helpers/audit-db.js';

test('a database locked past the busy timeout: intent rejects with 503, nothing sent', async (t) => {
  const { home, db } = openTempDb(t, { busyTimeoutMs: 100 });
  const writer = createAuditWriter({ db });
  const other = openDatabase({ home });
  t.after(() => other.close());

  other.exec('BEGIN EXCLUSIVE');
  const sent: number[] = [];
  const started = Date.now();
  const results = await Promise.allSettled(
    [1, 2, 3].map((i) => writer.intent(anIntent({ path: `/locked/${i}` })).then((e) => sent.push(e.id))),
  );
  const waited = Date.now() - started;
  other.exec('ROLLBACK');

  assert.deepEqual(sent, []);
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    const error: unknown = r.reason;
    assert.ok(isAirlockError(error));
    assert.equal(error.code, 'AIRLOCK_ERR_AUDIT_WRITE');
    assert.equal(error.status, 503);
    assert.match(error.message, /SQLITE_BUSY/);
  }
  assert.ok(waited >= 90, `it waited for the busy timeout (${waited} ms)`);

  // Lock released: the next intent commits.
  const entry = await writer.intent(anIntent({ path: '/unlocked' }));
  assert.equal(db.prepare('SELECT path FROM requests WHERE id = ?').pluck().get(entry.id), '/unlocked');
  await writer.close();
});

test('an outcome that meets a lock is retried, and lands once the lock is gone', async (t) => {
  const { home, db } = openTempDb(t, { busyTimeoutMs: 20 });
  const writer = createAuditWriter({ db, retryDelayMs: 30, attempts: 5 });
  const other = openDatabase({ home });
  t.after(() => other.close());
  const entry = await writer.intent(anIntent());

  other.exec('BEGIN EXCLUSIVE');
  entry.finish({
    decision: 'allowed',
    status: 200,
    bytesIn: 1,
    bytesOut: 2,
    durationMs: 3,
    endedAt: Date.now(),
  });
  await writer.flush(); // the first attempt fails
  other.exec('ROLLBACK');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(db.prepare('SELECT decision FROM requests WHERE id = ?').pluck().get(entry.id), 'allowed');
  await writer.close();
});
