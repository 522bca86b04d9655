import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAuditWriter } from '../src/audit/writer.js';
import { runChecks } from '../src/cli/doctor.js';
import { openDatabase } from '../src/store/database.js';
import { anIntent, openTempDb } from './helpers/audit-db.js';

/** Runs `fn` with process.stderr captured; returns what it wrote. */
async function stderrOf(fn: () => Promise<void>): Promise<string> {
  const original = process.stderr.write.bind(process.stderr);
  let text = '';
  process.stderr.write = (chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  };
  try {
    await fn();
  } finally {
    process.stderr.write = original;
  }
  return text;
}

test('rows the writer gives up on are reported on stderr, recorded as a gap, and shown by doctor', async (t) => {
  const { home, db } = openTempDb(t, { busyTimeoutMs: 50 });
  // as airlock run makes it: no onError given
  const writer = createAuditWriter({ db, attempts: 2, retryDelayMs: 10 });
  t.after(() => writer.close());
  const entry = await writer.intent(anIntent({ path: '/v1/before-the-lock' }));
  const before = await runChecks({ AIRLOCK_HOME: home });
  assert.equal(before.find((c) => c.name === 'audit')?.ok, true, 'control: nothing lost yet');

  const other = openDatabase({ home });
  t.after(() => other.close());
  const stderr = await stderrOf(async () => {
    other.exec('BEGIN EXCLUSIVE');
    entry.finish({
      decision: 'allowed',
      status: 200,
      bytesIn: 0,
      bytesOut: 0,
      durationMs: 1,
      endedAt: Date.now(),
    });
    writer.denied({
      ...anIntent({ path: '/v1/denied-while-locked' }),
      status: 403,
      reason: 'airlock_policy_denied',
    });
    await writer.flush(); // the first attempt
    await sleep(200); // the retry, and the give-up
    other.exec('ROLLBACK');
  });
  assert.match(
    stderr,
    /^airlock: audit: 2 audit outcome\(s\) or denial\(s\) lost: .*SQLITE_BUSY.* \[AIRLOCK_ERR_AUDIT_WRITE\]$/m,
  );

  // the next commit that works records the gap; doctor reports it
  await writer.intent(anIntent({ path: '/v1/after-the-lock' }));
  const audit = (await runChecks({ AIRLOCK_HOME: home })).find((c) => c.name === 'audit');
  assert.equal(audit?.ok, false);
  assert.match(audit?.detail ?? '', /^2 audit rows lost \(last at .*SQLITE_BUSY/);
  assert.match(audit?.fix ?? '', /free disk space/);
});
