import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAuditWriter } from '../src/audit/writer.js';
import { isAirlockError } from '../src/errors.js';
import { AuditSpace } from '../src/store/audit-space.js';
import { anIntent, openTempDb } from './helpers/audit-db.js';

const CAP = 1024 * 1024;

test('the audit log stays under audit.maxBytes: the oldest rows are pruned, and the pruning is on record', async (t) => {
  const { db } = openTempDb(t);
  const pruned: number[] = [];
  const writer = createAuditWriter({ db, maxBytes: CAP, onPrune: (rows) => pruned.push(rows) });
  t.after(() => writer.close());
  const space = new AuditSpace(db);
  const TOTAL = 20_000;
  let largest = 0;
  for (let i = 0; i < TOTAL; i++) {
    writer.denied({
      ...anIntent({ path: `/v1/denied/${i}/${'x'.repeat(100)}` }),
      status: 403,
      reason: 'airlock_policy_denied',
    });
    if (i % 100 === 99) {
      await writer.flush();
      largest = Math.max(largest, space.diskBytes());
    }
  }
  await writer.flush();
  assert.ok(largest <= CAP, `the database and its WAL took ${largest} bytes, over the cap of ${CAP}`);
  assert.ok(pruned.length > 0, 'the cap was reached, so rows were pruned');

  const kept = db.prepare('SELECT count(*) FROM requests').pluck().get() as number;
  const gaps = space.gaps();
  assert.equal(kept + gaps.pruned, TOTAL, 'every row is either kept or counted as pruned');
  assert.equal(
    gaps.pruned,
    pruned.reduce((a, b) => a + b, 0),
  );
  assert.equal(gaps.lost, 0);
  const newest = db.prepare('SELECT path FROM requests ORDER BY id DESC LIMIT 1').pluck().get() as string;
  assert.match(newest, new RegExp(`^/v1/denied/${TOTAL - 1}/`), 'the newest rows are kept');
  const oldest = db.prepare('SELECT path FROM requests ORDER BY id LIMIT 1').pluck().get() as string;
  assert.doesNotMatch(oldest, /^\/v1\/denied\/0\//, 'the oldest went first');
});

test('a log over its cap with only in-flight rows refuses new requests (503) until they finish', async (t) => {
  const { db } = openTempDb(t);
  const writer = createAuditWriter({ db, maxBytes: 256 * 1024, onPrune: () => {} });
  t.after(() => writer.close());
  const entries = [];
  let refused: unknown;
  for (let i = 0; i < 5_000 && refused === undefined; i++) {
    try {
      entries.push(await writer.intent(anIntent({ path: `/v1/in-flight/${i}/${'x'.repeat(200)}` })));
    } catch (err) {
      refused = err;
    }
  }
  assert.ok(isAirlockError(refused), 'an intent was refused once nothing could be pruned');
  assert.equal(refused.code, 'AIRLOCK_ERR_AUDIT_WRITE');
  assert.equal(refused.status, 503);
  assert.match(refused.message, /size cap/);
  // the rows finish: now they can be pruned, and the log takes requests again
  const outcome = {
    decision: 'allowed' as const,
    status: 200,
    bytesIn: 0,
    bytesOut: 0,
    durationMs: 1,
    endedAt: Date.now(),
  };
  for (const e of entries) e.finish(outcome);
  await writer.flush();
  await writer.intent(anIntent({ path: '/v1/after' })); // prunes after this commit
  const again = await writer.intent(anIntent({ path: '/v1/after-prune' }));
  assert.ok(again.id > 0);
});
