import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { createAuditWriter } from '../src/audit/writer.js';
import { openDatabase } from '../src/store/database.js';
import { tempHome } from './helpers/audit-db.js';

const CHILD = new URL('./helpers/crash-child.ts', import.meta.url).pathname;
const KILLS = 60;

/** Starts the loaded writer, waits for it to be ready (or not), and kills it with SIGKILL. */
async function runAndKill(home: string, side: string, early: boolean): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, home, side], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  if (early) {
    // anywhere from start-up (migrations, recovery) to the first commits
    await sleep(Math.random() * 400);
  } else {
    const deadline = Date.now() + 10_000;
    while (!(existsSync(side) && readFileSync(side, 'utf8').startsWith('ready'))) {
      assert.ok(Date.now() < deadline, 'the child did not get ready');
      await sleep(3);
    }
    await sleep(Math.random() * 100);
  }
  child.kill('SIGKILL');
  await exited;
}

/** The complete lines the child wrote: its synchronous setting and the ids it "sent". */
function readSide(side: string): { synchronous: string | undefined; sent: number[]; errors: number } {
  if (!existsSync(side)) return { synchronous: undefined, sent: [], errors: 0 };
  const lines = readFileSync(side, 'utf8').split('\n').slice(0, -1);
  return {
    synchronous: lines.find((l) => l.startsWith('ready '))?.slice(6),
    sent: lines.filter((l) => /^\d+$/.test(l)).map(Number),
    errors: lines.filter((l) => l.startsWith('error')).length,
  };
}

test(`kill -9 under load, ${KILLS} times: every request sent upstream has a committed row`, async (t) => {
  const home = tempHome(t);
  let totalSent = 0;
  let totalRecovered = 0;
  for (let run = 0; run < KILLS; run++) {
    const side = join(home, `side-${run}`);
    await runAndKill(home, side, run % 10 === 9);
    const { synchronous, sent, errors } = readSide(side);
    if (synchronous !== undefined) assert.equal(synchronous, '2', 'the child ran with synchronous=FULL');
    assert.equal(errors, 0, 'no intent failed');

    const db = openDatabase({ home });
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      const have = new Set(db.prepare('SELECT id FROM requests').pluck().all() as number[]);
      const missing = sent.filter((id) => !have.has(id));
      assert.deepEqual(missing, [], `run ${run}: ids reported as sent but not in the database`);
      totalSent += sent.length;

      const finished = db.prepare("SELECT count(*) FROM requests WHERE decision = 'allowed'").pluck();
      const inFlight = db.prepare('SELECT count(*) FROM requests WHERE decision IS NULL').pluck();
      const allowedBefore = finished.get() as number;
      const open = inFlight.get() as number;
      const writer = createAuditWriter({ db });
      assert.equal(writer.recoverUnfinished(), open);
      await writer.close();
      assert.equal(inFlight.get(), 0, 'no row is left without an outcome');
      assert.equal(finished.get(), allowedBefore, 'recovery leaves recorded outcomes alone');
      totalRecovered += open;
    } finally {
      db.close();
    }
  }
  t.diagnostic(`${totalSent} requests reported sent, ${totalRecovered} rows recovered as unknown`);
  assert.ok(totalSent > 1000, `the children were under load (${totalSent} requests sent)`);
  assert.ok(totalRecovered > 0, 'some kills left requests in flight');
});
