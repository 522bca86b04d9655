import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PassThrough } from 'node:stream';
import { auditCommand } from '../src/cli/audit.js';
import { isAirlockError } from '../src/errors.js';
import { tempHome } from './helpers/audit-db.js';
import { runCommand, seedAudit } from './helpers/seed-audit.js';

/** stdin as a pipe, or as a terminal that answers `answer`. */
function stdin(answer?: string): NodeJS.ReadableStream {
  const input = new PassThrough();
  if (answer === undefined) input.end();
  else {
    Object.assign(input, { isTTY: true });
    input.end(`${answer}\n`);
  }
  return input;
}

const run = (home: string, args: string[], answer?: string) =>
  runCommand(auditCommand, args, { AIRLOCK_HOME: home }, stdin(answer));

const rowCount = async (home: string) =>
  (await run(home, ['--json'])).stdout.split('\n').filter(Boolean).length;

test('prune without --yes refuses when stdin is not a terminal, and deletes nothing', async (t) => {
  const home = tempHome(t);
  await seedAudit(home);
  for (const olderThan of ['1d', '0s']) {
    await assert.rejects(
      run(home, ['prune', '--older-than', olderThan]),
      (e: unknown) =>
        isAirlockError(e) &&
        e.code === 'AIRLOCK_ERR_USAGE' &&
        /prune would delete \d+ finished requests? .*add --yes/.test(e.message),
      olderThan,
    );
  }
  assert.equal(await rowCount(home), 9);
});

test('prune --dry-run says what would go and deletes nothing', async (t) => {
  const home = tempHome(t);
  await seedAudit(home);
  const { status, stdout } = await run(home, ['prune', '--older-than', '0s', '--dry-run']);
  assert.equal(status, 0);
  assert.match(stdout, /^would prune 8 finished requests that started before \S+ \(the oldest at \S+\)/);
  assert.equal(await rowCount(home), 9);
});

test('prune asks on a terminal: no keeps the rows, yes deletes them', async (t) => {
  const home = tempHome(t);
  await seedAudit(home);
  const no = await run(home, ['prune', '--older-than', '1d'], 'n');
  assert.match(no.stderr, /delete 2 finished requests that started before \S+ from the audit log\? \[y\/N\]/);
  assert.equal(no.stdout, 'nothing deleted\n');
  assert.equal(await rowCount(home), 9);
  const yes = await run(home, ['prune', '--older-than', '1d'], 'y');
  assert.match(yes.stdout, /^pruned 2 requests/);
  assert.equal(await rowCount(home), 7);
});

test('--older-than takes an ISO 8601 date or time as well as a duration', async (t) => {
  const home = tempHome(t);
  const now = await seedAudit(home);
  const nothing = await run(home, ['prune', '--older-than', '2000-01-01']);
  assert.match(
    nothing.stdout,
    /^nothing to prune: no finished request started before 2000-01-01T00:00:00\.000Z/,
  );
  const cutoff = new Date(now - 24 * 3_600_000).toISOString();
  const { stdout } = await run(home, ['prune', '--older-than', cutoff, '--yes']);
  assert.equal(stdout, `pruned 2 requests that started before ${cutoff}\n`);
  await assert.rejects(
    run(home, ['prune', '--older-than', '2025-02-30x']),
    (e: unknown) => isAirlockError(e) && e.message.includes('--older-than 2025-02-30x'),
  );
});
