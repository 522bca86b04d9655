import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { listMigrations, openDatabase } from '../src/store/database.js';
import { startWorker } from './helpers/line-worker.js';
import { tempDir } from './helpers/temp-dir.js';

const DATABASE = fileURLToPath(new URL('../src/store/database.ts', import.meta.url));

/** Opens each home it is sent, and answers `ok` or the error. */
const OPENER = `import { createInterface } from 'node:readline';
  import { openDatabase } from ${JSON.stringify(DATABASE)};
  console.log('ready');
  for await (const home of createInterface({ input: process.stdin })) {
    try {
      openDatabase({ home }).close();
      console.log('ok');
    } catch (e) {
      console.log(String(e));
    }
  }`;

test('three processes opening a fresh home at once all succeed, 200 times over', async (t) => {
  const root = tempDir(t).dir;
  const openers = [1, 2, 3].map(() => startWorker(OPENER));
  t.after(() => Promise.all(openers.map((w) => w.stop())));
  for (const w of openers) assert.equal(await w.next(), 'ready');
  const failures: string[] = [];
  for (let round = 0; round < 200; round++) {
    // not created yet: each opener races to make the directory, the WAL switch and the schema
    const home = join(root, `home-${round}`);
    for (const w of openers) w.send(home);
    for (const answer of await Promise.all(openers.map((w) => w.next()))) {
      if (answer !== 'ok') failures.push(`round ${round}: ${answer}`);
    }
  }
  assert.deepEqual(failures, []);
  const db = openDatabase({ home: join(root, 'home-199') });
  t.after(() => db.close());
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('user_version', { simple: true }), listMigrations().at(-1)!.version);
  assert.deepEqual(
    db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).pluck().all(),
    ['audit_gaps', 'budgets', 'requests', 'sandbox_changes', 'sandboxes'],
  );
});
