import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../src/store/database.js';
import { SandboxRecords } from '../src/store/sandbox-records.js';
import { tempHome } from './helpers/sandbox-bench.js';

const RECORDS = fileURLToPath(new URL('../src/store/sandbox-records.ts', import.meta.url));
const DATABASE = fileURLToPath(new URL('../src/store/database.ts', import.meta.url));

test('parallel airlock processes never get the same slot', async (t) => {
  const home = tempHome(t);
  openDatabase({ home }).close(); // migrate once
  const perProcess = 40;
  const script = `import { openDatabase } from ${JSON.stringify(DATABASE)};
    import { SandboxRecords } from ${JSON.stringify(RECORDS)};
    const records = new SandboxRecords(openDatabase({ home: ${JSON.stringify(home)} }));
    for (let i = 0; i < ${perProcess}; i++) {
      const id = process.pid + '-' + i;
      const r = records.allocate({ id, name: null, netns: 'n' + id, hostIf: 'l' + id, proxyPort: 9090, ownerPid: process.pid,
        ownerStart: null, profiles: [], credentials: [], createdAt: new Date().toISOString() }, 1000,
        (slot) => ({ gateway: 'g' + slot, guest: 'h' + slot }));
      if (!r) throw new Error('pool full');
    }`;
  const runs = Array.from({ length: 4 }, () => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: 'inherit',
    });
    return new Promise<number | null>((resolve) => child.on('close', resolve));
  });
  assert.deepEqual(await Promise.all(runs), [0, 0, 0, 0]);
  const db = openDatabase({ home });
  t.after(() => db.close());
  const live = new SandboxRecords(db).live();
  assert.equal(live.length, 4 * perProcess);
  assert.equal(new Set(live.map((r) => r.slot)).size, live.length, 'every slot is distinct');
  assert.equal(Math.max(...live.map((r) => r.slot)), live.length - 1, 'lowest free slots are used');
});
