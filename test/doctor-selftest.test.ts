import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { leftovers } from './helpers/fake-internet.js';
import { runCli } from './helpers/cli.js';
import { needsRoot, tempHome } from './helpers/sandbox-bench.js';

const bait = () => [
  ...readdirSync('/tmp').filter((n) => n.startsWith('airlock-selftest-')),
  ...readdirSync('/home').filter((n) => n.startsWith('airlock-selftest-')),
];

test(
  'airlock doctor --selftest attacks a real sandbox and reports each attempt',
  { skip: needsRoot },
  async (t) => {
    const before = bait();
    const r = await runCli(['doctor', '--selftest', '--json'], { AIRLOCK_HOME: tempHome(t) });
    const report = JSON.parse(r.stdout) as {
      ok: boolean;
      checks: { name: string; ok: boolean; detail: string }[];
    };
    const attempts = report.checks.filter((c) => c.name.startsWith('selftest: '));
    assert.deepEqual(
      attempts.map((c) => c.name.slice('selftest: '.length)),
      ['network', 'dns', 'unix socket', 'host file', 'scratch', '/proc view', 'keyring', 'memory', 'pids'],
    );
    for (const c of attempts) assert.ok(c.ok, `${c.name}: ${c.detail}`);
    assert.equal(report.ok, true);
    assert.equal(r.status, 0);
    // the details show what was tried, so a reader can judge each ok
    const detail = (name: string) => attempts.find((c) => c.name === `selftest: ${name}`)!.detail;
    assert.match(detail('network'), /proxy port CONNECTED; gateway:22 ECONNREFUSED/);
    assert.match(detail('unix socket'), /open\.sock: ENOENT/);
    assert.match(detail('memory'), /SIGKILL/);
    assert.match(detail('scratch'), /none of them is on the host/);
    assert.deepEqual(bait(), before, 'the self-test removes the socket and home it made');
    assert.deepEqual(await leftovers(), { netns: [], links: [], elements: 0, cgroups: [] });

    const text = await runCli(['doctor', '--selftest'], { AIRLOCK_HOME: tempHome(t) });
    assert.match(text.stdout, /^ok {4}selftest: host file +\/home\/airlock-selftest-\w+\/\.env: ENOENT$/m);
  },
);
