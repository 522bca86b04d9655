import assert from 'node:assert/strict';
import { mkdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createAuditWriter } from '../src/audit/writer.js';
import { isAirlockError } from '../src/errors.js';
import { openDatabase } from '../src/store/database.js';
import { anIntent } from './helpers/audit-db.js';
import { fill, tinyDisk } from './helpers/tiny-disk.js';

const notRoot = process.getuid?.() !== 0 ? 'needs root to mount a tmpfs' : false;

test('a full disk: intent rejects with 503 and nothing is reported as sent', { skip: notRoot }, async (t) => {
  const mnt = tinyDisk(t);
  const home = join(mnt, 'home');
  mkdirSync(home);
  const db = openDatabase({ home });
  t.after(() => db.close());
  const writer = createAuditWriter({ db });
  await writer.intent(anIntent()); // works while there is room

  const filler = fill(mnt);
  const sent: number[] = [];
  const results = await Promise.allSettled(
    Array.from({ length: 50 }, (_, i) =>
      writer.intent(anIntent({ path: `/full/${i}/${'x'.repeat(2000)}` })).then((e) => sent.push(e.id)),
    ),
  );
  assert.deepEqual(sent, [], 'no request may go upstream without its row');
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    const error: unknown = r.reason;
    assert.ok(isAirlockError(error), String(error));
    assert.equal(error.code, 'AIRLOCK_ERR_AUDIT_WRITE');
    assert.equal(error.status, 503);
    assert.match(error.message, /SQLITE_FULL/);
  }

  // Once there is room again, the same writer records again.
  unlinkSync(filler);
  const entry = await writer.intent(anIntent({ path: '/after' }));
  assert.equal(db.prepare('SELECT path FROM requests WHERE id = ?').pluck().get(entry.id), '/after');
  await writer.close();
});
