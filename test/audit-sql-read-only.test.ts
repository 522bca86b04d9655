import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openAuditQuery } from '../src/audit/query.js';
import { auditCommand } from '../src/cli/audit.js';
import { isAirlockError } from '../src/errors.js';
import { listMigrations, openDatabase } from '../src/store/database.js';
import { tempHome } from './helpers/audit-db.js';
import { runCommand, seedAudit } from './helpers/seed-audit.js';

test('--sql runs a SELECT on a read-only connection', async (t) => {
  const home = tempHome(t);
  await seedAudit(home);
  const { status, stdout } = await runCommand(
    auditCommand,
    [
      '--sql',
      'SELECT decision, count(*) AS n FROM requests WHERE decision IS NOT NULL GROUP BY decision ORDER BY decision',
      '--json',
    ],
    { AIRLOCK_HOME: home },
  );
  assert.equal(status, 0);
  assert.deepEqual(
    stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown),
    [
      { decision: 'allowed', n: 5 },
      { decision: 'denied', n: 2 },
      { decision: 'error', n: 1 },
    ],
  );
  const audit = openAuditQuery({ home });
  t.after(() => audit.close());
  assert.deepEqual(audit.sql('PRAGMA query_only').rows, [{ query_only: 1 }]);
});

test('--sql refuses anything that writes, and nothing changes', async (t) => {
  const home = tempHome(t);
  await seedAudit(home);
  const audit = openAuditQuery({ home });
  t.after(() => audit.close());
  for (const sql of [
    "INSERT INTO requests (sandbox, method, host, path, started_at) VALUES ('x', 'GET', 'h', '/', '2025')",
    'UPDATE requests SET status = 200',
    'DELETE FROM requests',
    'DROP TABLE requests',
    'CREATE TABLE t (a)',
    'PRAGMA user_version = 99',
    'PRAGMA query_only = OFF',
    'VACUUM',
    'SELECT 1; DELETE FROM requests',
    'WITH x AS (SELECT 1) DELETE FROM requests',
  ]) {
    assert.throws(
      () => audit.sql(sql),
      (e: unknown) => isAirlockError(e) && e.code === 'AIRLOCK_ERR_AUDIT_QUERY',
      sql,
    );
  }
  await assert.rejects(
    runCommand(auditCommand, ['--sql', 'DELETE FROM requests'], { AIRLOCK_HOME: home }),
    (e: unknown) => isAirlockError(e) && e.code === 'AIRLOCK_ERR_AUDIT_QUERY' && /write/.test(e.message),
  );
  const db = openDatabase({ home });
  t.after(() => db.close());
  assert.equal(db.prepare('SELECT count(*) FROM requests').pluck().get(), 9);
  assert.equal(db.pragma('user_version', { simple: true }), listMigrations().at(-1)?.version);
});
