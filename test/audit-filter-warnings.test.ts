import assert from 'node:assert/strict';
import { test } from 'node:test';
import { auditCommand } from '../src/cli/audit.js';
import { tempHome } from './helpers/audit-db.js';
import { runCommand, seedAudit } from './helpers/seed-audit.js';

const run = (home: string, ...args: string[]) => runCommand(auditCommand, args, { AIRLOCK_HOME: home });

test('filters that match nothing known warn on stderr (and still run)', async (t) => {
  const home = tempHome(t);
  await seedAudit(home);
  for (const [args, warning] of [
    [['--sandbox', 'gamma'], /airlock: warning: --sandbox gamma: no sandbox has that id or name/],
    [['--service', 'opnai'], /airlock: warning: --service opnai: not a catalogue service \(openai, /],
    [
      ['--since', '1h', '--until', '2h'],
      /airlock: warning: --since 1h \(\S+Z\) is not before --until 2h \(\S+Z\): the window is empty/,
    ],
    [['--query', 'errors', '--sandbox', 'gamma'], /--sandbox gamma: no sandbox/],
  ] as const) {
    const { status, stdout, stderr } = await run(home, ...args);
    assert.equal(status, 0, String(args));
    assert.match(stderr, warning, String(args));
    assert.match(stdout, /^0 (requests|rows)/m, String(args));
  }
});

test('known values give no warning, even when they select no rows', async (t) => {
  const home = tempHome(t);
  await seedAudit(home);
  for (const args of [
    ['--sandbox', 'alpha'],
    ['--sandbox', 'b2'],
    ['--service', 'anthropic'],
    ['--service', 'huggingface'], // in the catalogue, no rows
    ['--since', '2h', '--until', '1h'],
    ['--sandbox', 'alpha', '--service', 'github'], // both known, nothing in common
  ]) {
    const { status, stderr } = await run(home, '--json', ...args);
    assert.equal(status, 0);
    assert.doesNotMatch(stderr, /warning/, String(args));
  }
});
