import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { listMigrations, openDatabase } from '../src/store/database.js';

test('a database written by a newer airlock is refused by name, before any statement is prepared', (t) => {
  const home = mkdtempSync(join(tmpdir(), 'airlock-newer-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const known = listMigrations().at(-1)!.version;
  const db = openDatabase({ home });
  db.pragma(`user_version = ${known + 1}`);
  db.close();
  assert.throws(
    () => openDatabase({ home }),
    (err: Error & { code?: string }) =>
      err.code === 'AIRLOCK_ERR_STATE' &&
      err.message.includes(`schema version ${known + 1}, newer than this airlock knows (${known})`),
  );
});
