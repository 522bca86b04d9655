import assert from 'node:assert/strict';
import { test } from 'node:test';
import { main } from '../src/cli/main.js';
import { captureIo, runCli } from './helpers/cli.js';
import { needsRoot, tempHome } from './helpers/sandbox-bench.js';

test('doctor passes here, and prints a fix for what is missing', { skip: needsRoot }, async () => {
  const ok = await runCli(['doctor', '--json']);
  assert.equal(ok.status, 0, ok.stdout);
  const report = JSON.parse(ok.stdout) as { ok: boolean; checks: { name: string; ok: boolean }[] };
  assert.equal(report.ok, true);
  for (const name of ['privileges', 'nft', 'ip', 'bwrap', 'setpriv', 'nf_tables', 'cgroups', 'node']) {
    assert.ok(
      report.checks.some((c) => c.name === name && c.ok),
      name,
    );
  }
  const missing = await runCli(['doctor'], { PATH: '/nonexistent' });
  assert.equal(missing.status, 125);
  assert.match(missing.stdout, /FAIL\s+bwrap\s+not found\n\s+fix: sudo apt-get install -y bubblewrap/);
});

test('not root: one line naming the capability and the fix', { skip: needsRoot }, async (t) => {
  const io = captureIo({ AIRLOCK_HOME: tempHome(t) });
  process.seteuid!(65534);
  let status: number;
  try {
    status = await main(['run', '--', 'true'], io);
  } finally {
    process.seteuid!(0);
  }
  assert.equal(status, 125);
  assert.match(
    io.err(),
    /^airlock: creating a sandbox needs root \(CAP_NET_ADMIN\) \[AIRLOCK_ERR_NOT_ROOT\]\n {2}hint: run it with sudo/,
  );
});

test('gc --json reports what it removed', { skip: needsRoot }, async (t) => {
  const r = await runCli(['gc', '--json'], { AIRLOCK_HOME: tempHome(t) });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    sandboxes: [],
    namespaces: [],
    links: [],
    elements: [],
    cgroups: [],
  });
});

test('a missing program is named with the command that installs it', { skip: needsRoot }, async (t) => {
  // /usr/sbin and /sbin are always searched; with this PATH, the programs in /usr/bin are not found
  const r = await runCli(['run', '--', 'true'], { PATH: '/nonexistent', AIRLOCK_HOME: tempHome(t) });
  assert.equal(r.status, 125);
  assert.match(
    r.stderr,
    /^airlock: missing bwrap, setpriv \[AIRLOCK_ERR_MISSING_TOOL\]\n {2}hint: install with: sudo apt-get install -y bubblewrap util-linux/,
  );
  const { leftovers } = await import('./helpers/fake-internet.js');
  assert.deepEqual(
    await leftovers(),
    { netns: [], links: [], elements: 0, cgroups: [] },
    'nothing was built',
  );
});
