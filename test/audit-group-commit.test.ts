import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import { createAuditWriter, type BatchStats } from '../src/audit/writer.js';
import { anIntent, anOutcome, openTempDb } from './helpers/audit-db.js';

/** WAL frames written so far: each commit appends every page it changed as a new frame. */
function walFrames(home: string, pageSize: number): number {
  const size = statSync(join(home, 'airlock.db-wal')).size;
  return size === 0 ? 0 : (size - 32) / (pageSize + 24);
}

test('synchronous is FULL by default, NORMAL only when asked for', (t) => {
  assert.equal(openTempDb(t).db.pragma('synchronous', { simple: true }), 2);
  assert.equal(openTempDb(t, { synchronous: 'NORMAL' }).db.pragma('synchronous', { simple: true }), 1);
});

test('intents that arrive within one tick share one transaction', async (t) => {
  const { home, db } = openTempDb(t);
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const batches: BatchStats[] = [];
  const writer = createAuditWriter({ db, onCommit: (b) => batches.push(b) });
  const N = 200;

  // The burst: N intents in one tick, then their outcomes in one tick.
  const before = walFrames(home, pageSize);
  const entries = await Promise.all(
    Array.from({ length: N }, (_, i) => writer.intent(anIntent({ path: `/b/${i}` }))),
  );
  assert.deepEqual(batches, [{ intents: N, outcomes: 0, denials: 0 }]);
  for (const e of entries) e.finish(anOutcome());
  for (let i = 0; i < 10; i++) writer.denied({ ...anIntent(), status: 403, reason: 'no' });
  await writer.flush();
  assert.deepEqual(batches[1], { intents: 0, outcomes: N, denials: 10 });
  const grouped = walFrames(home, pageSize) - before;

  // Control: the same number of intents, one per tick, so one transaction each. This shows the
  // WAL measurement above would have caught per-intent commits.
  const start = walFrames(home, pageSize);
  for (let i = 0; i < N; i++) await writer.intent(anIntent({ path: `/s/${i}` }));
  const single = walFrames(home, pageSize) - start;
  assert.equal(batches.length, 2 + N);

  assert.ok(single >= N, `one commit per intent writes at least one frame each (${single})`);
  assert.ok(
    grouped * 10 < single,
    `the grouped burst wrote ${grouped} WAL frames for ${2 * N + 10} rows, one-per-tick ${single} for ${N}`,
  );
  await writer.close();
});

test('outcomes wait a moment for the next intent, so one fsync records both', async (t) => {
  const { db } = openTempDb(t);
  const batches: BatchStats[] = [];
  const writer = createAuditWriter({ db, onCommit: (b) => batches.push(b), lateWriteDelayMs: 1_000 });
  const first = await writer.intent(anIntent({ path: '/first' }));
  first.finish(anOutcome());
  writer.denied({ ...anIntent(), status: 403, reason: 'no' });
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(batches.length, 1, 'the outcome and the denial have not forced a commit of their own');
  await writer.intent(anIntent({ path: '/second' }));
  assert.deepEqual(batches[1], { intents: 1, outcomes: 1, denials: 1 });

  // with nothing to ride along with, an outcome is committed after the delay all the same
  const quick = createAuditWriter({ db, onCommit: (b) => batches.push(b), lateWriteDelayMs: 10 });
  (await quick.intent(anIntent({ path: '/third' }))).finish(anOutcome());
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(batches.at(-1), { intents: 0, outcomes: 1, denials: 0 });
  await writer.close();
  await quick.close();
});

test('an intent whose message lands as the outcomes fall due shares their commit', async (t) => {
  // On the audit thread an intent arrives as a message, read in the poll phase, after the
  // timers: an outcome's delay that fell due meanwhile must not commit alone first, or the
  // intent waits for two fsyncs. A MessageChannel delivers like the thread's port.
  const { db } = openTempDb(t);
  const batches: BatchStats[] = [];
  const writer = createAuditWriter({ db, onCommit: (b) => batches.push(b), lateWriteDelayMs: 5 });
  const entry = await writer.intent(anIntent({ path: '/first' }));
  const { port1, port2 } = new MessageChannel();
  t.after(() => port1.close());
  const committed = new Promise<void>((resolve) =>
    port1.once('message', () => void writer.intent(anIntent({ path: '/second' })).then(() => resolve())),
  );
  entry.finish(anOutcome());
  port2.postMessage('intent');
  const until = Date.now() + 20; // the loop is busy past the delay, as a loaded thread is
  while (Date.now() < until);
  await committed;
  assert.deepEqual(batches.slice(1), [{ intents: 1, outcomes: 1, denials: 0 }]);
  await writer.close();
});
