import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createQueryRedactor, DEFAULT_REDACT_PARAMS } from '../src/audit/redact.js';
import { createAuditWriter } from '../src/audit/writer.js';
import { anIntent, anOutcome, openTempDb } from './helpers/audit-db.js';

const CANARY = 'CANARYc4n4ry0f4u1tl1n3';

/** Every byte of airlock.db, its WAL and shared-memory file. */
function rawFiles(home: string): Buffer[] {
  return ['airlock.db', 'airlock.db-wal', 'airlock.db-shm']
    .map((f) => join(home, f))
    .filter(existsSync)
    .map((f) => readFileSync(f));
}

test('credential-bearing query parameters are stored as REDACTED', () => {
  const redact = createQueryRedactor(DEFAULT_REDACT_PARAMS);
  assert.equal(redact(`?key=${CANARY}`), 'key=REDACTED');
  assert.equal(redact(`alt=sse&key=${CANARY}&x=1`), 'alt=sse&key=REDACTED&x=1');
  assert.equal(redact(`KEY=${CANARY}`), 'KEY=REDACTED');
  assert.equal(redact(`%6Bey=${CANARY}`), '%6Bey=REDACTED');
  assert.equal(redact(`access_token=${CANARY}&per_page=5`), 'access_token=REDACTED&per_page=5');
  assert.equal(redact(`X-Amz-Signature=${CANARY}`), 'X-Amz-Signature=REDACTED');
  assert.equal(redact(`key`), 'key=REDACTED');
  assert.equal(redact('q=hello%20world&page=2'), 'q=hello%20world&page=2');
  assert.equal(redact(''), null);
  assert.equal(redact(undefined), null);
  assert.equal(createQueryRedactor(['session'])(`session=${CANARY}&key=1`), 'session=REDACTED&key=1');
});

test('canary secrets never reach the database or its WAL', async (t) => {
  const { home, db } = openTempDb(t);
  const writer = createAuditWriter({ db });
  for (let i = 0; i < 50; i++) {
    const request = anIntent({
      query: `alt=sse&key=${CANARY}${i}&token=${CANARY}`,
      path: `/v1beta/models/m:${i}`,
    });
    const entry = await writer.intent(request);
    entry.finish(anOutcome());
    writer.denied({ ...request, query: `?access_token=${CANARY}`, status: 403, reason: 'denied by rule' });
  }
  await writer.flush();

  // The rows are there, with the parameter names kept...
  const queries = db.prepare('SELECT DISTINCT query FROM requests ORDER BY query').pluck().all();
  assert.deepEqual(queries, ['access_token=REDACTED', 'alt=sse&key=REDACTED&token=REDACTED']);
  // ...and the canary is nowhere in the files, before and after a checkpoint.
  const wal = rawFiles(home);
  assert.ok(wal.length >= 2, 'the WAL exists while the writer runs');
  assert.ok(
    wal.some((b) => b.includes('alt=sse&key=REDACTED')),
    'the search sees row text in the raw files',
  );
  for (const bytes of wal) assert.ok(!bytes.includes(CANARY), 'canary found in a database file');
  // Only root can read them: the state directory is 0700, the files 0600.
  assert.equal(statSync(home).mode & 0o777, 0o700);
  for (const f of ['airlock.db', 'airlock.db-wal', 'airlock.db-shm']) {
    assert.equal(statSync(join(home, f)).mode & 0o777, 0o600, f);
  }
  await writer.close();
  db.pragma('wal_checkpoint(TRUNCATE)');
  for (const bytes of rawFiles(home)) assert.ok(!bytes.includes(CANARY), 'canary found after checkpoint');
});
