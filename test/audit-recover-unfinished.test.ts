import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAuditWriter } from '../src/audit/writer.js';
import { AuditRecords } from '../src/store/audit-records.js';
import { SandboxRecords } from '../src/store/sandbox-records.js';
import { anIntent, anOutcome, openTempDb } from './helpers/audit-db.js';

test('rows without an outcome become unknown at start; a live sandbox of another process keeps its own', async (t) => {
  const { db } = openTempDb(t);
  const sandboxes = new SandboxRecords(db);
  const sandbox = (id: string) =>
    sandboxes.allocate(
      {
        id,
        name: null,
        netns: `airlock-${id}`,
        hostIf: `al-${id}`,
        proxyPort: 9090,
        ownerPid: 1,
        ownerStart: null,
        profiles: [],
        credentials: [],
        createdAt: new Date().toISOString(),
      },
      8,
      (slot) => ({ gateway: `10.209.0.${4 * slot + 1}`, guest: `10.209.0.${4 * slot + 2}` }),
    );
  sandbox('live');
  sandbox('ended');
  sandboxes.end('ended', 137);

  // a crashed run: intents committed, outcomes never written
  const crashed = createAuditWriter({ db });
  const [gone, ended, live, done] = await Promise.all([
    crashed.intent(anIntent({ sandboxId: 'no-record' })),
    crashed.intent(anIntent({ sandboxId: 'ended' })),
    crashed.intent(anIntent({ sandboxId: 'live' })),
    crashed.intent(anIntent({ sandboxId: 'ended', path: '/done' })),
  ]);
  done.finish(anOutcome());
  await crashed.flush();

  const next = createAuditWriter({ db });
  assert.equal(next.recoverUnfinished(), 2);
  const records = new AuditRecords(db);
  const decision = (id: number) => records.list({}).find((r) => r.id === id);
  assert.equal(decision(gone.id)?.decision, 'unknown');
  assert.match(decision(gone.id)?.reason ?? '', /no outcome recorded/);
  assert.ok(decision(gone.id)?.endedAt);
  assert.equal(decision(ended.id)?.decision, 'unknown');
  assert.equal(decision(live.id)?.decision, null, 'another process may still be serving this one');
  assert.equal(decision(done.id)?.decision, 'allowed');

  // A late outcome never overwrites 'unknown'; the live one can still finish.
  gone.finish(anOutcome());
  live.finish(anOutcome({ status: 201 }));
  await crashed.close();
  assert.equal(decision(gone.id)?.decision, 'unknown');
  assert.equal(decision(live.id)?.status, 201);
  assert.equal(next.recoverUnfinished(), 0);
  await next.close();
});

test('after close, intents are refused with 503 and nothing is queued', async (t) => {
  const { db } = openTempDb(t);
  const errors: string[] = [];
  const writer = createAuditWriter({ db, onError: (e) => errors.push(e.code) });
  await writer.close();
  await assert.rejects(writer.intent(anIntent()), { code: 'AIRLOCK_ERR_AUDIT_WRITE', status: 503 });
  writer.denied({ ...anIntent(), status: 403, reason: 'x' });
  assert.deepEqual(errors, ['AIRLOCK_ERR_AUDIT_WRITE']);
  assert.equal(db.prepare('SELECT count(*) FROM requests').pluck().get(), 0);
});
