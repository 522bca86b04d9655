import assert from 'node:assert/strict';
import { test } from 'node:test';
import { needsRoot, testSandbox } from './helpers/sandbox-bench.js';

test('the guest cannot change routes or rules, and has no capabilities', { skip: needsRoot }, async (t) => {
  const sb = await testSandbox(t);
  const route = await sb.exec(['ip', 'route', 'add', 'default', 'via', sb.gateway]);
  assert.notEqual(route.status, 0);
  assert.match(route.stderr, /Operation not permitted/);
  const flush = await sb.exec(['nft', 'flush', 'ruleset']);
  assert.notEqual(flush.status, 0);
  assert.match(flush.stderr, /Operation not permitted/);
  const addr = await sb.exec(['ip', 'addr', 'add', '10.209.255.250/32', 'dev', 'eth0']);
  assert.notEqual(addr.status, 0);

  const status = await sb.exec([
    'sh',
    '-c',
    'grep -E "^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Uid|Gid):" /proc/self/status',
  ]);
  assert.equal(status.status, 0);
  for (const cap of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) {
    assert.match(status.stdout, new RegExp(`^${cap}:\\s+0+$`, 'm'), `${cap} must be empty`);
  }
  assert.match(status.stdout, /^NoNewPrivs:\s+1$/m);
  assert.match(status.stdout, new RegExp(`^Uid:\\s+${sb.user.uid}\\s`, 'm'));

  // positive control: the same commands as root in the namespace do work
  const { runCommand } = await import('../src/net/run.js');
  const rootRoute = await runCommand('ip', ['-n', sb.netns, 'route', 'add', '192.0.2.123/32', 'dev', 'eth0']);
  assert.equal(rootRoute.ok, true, rootRoute.stderr);
});

test('the guest sees only its own processes, not airlock or the host', { skip: needsRoot }, async (t) => {
  const sb = await testSandbox(t);
  const r = await sb.exec([
    'sh',
    '-c',
    // printf, not echo: a command line may hold backslashes (the guest launcher's does)
    'for p in /proc/[0-9]*; do printf "%s %s\\n" "${p#/proc/}" "$(tr "\\0" " " < $p/cmdline)"; done',
  ]);
  const processes = r.stdout.trim().split('\n');
  assert.ok(
    processes.length >= 2 && processes.length <= 8,
    `guest sees ${processes.length} processes: ${r.stdout}`,
  );
  const [init, ...guest] = processes;
  assert.match(init!, /^1 \/usr\/bin\/bwrap /, 'PID 1 is the sandbox init, not the host init');
  for (const c of guest)
    assert.doesNotMatch(c, /airlock|node|tsx|systemd/, `a host process is visible: ${c}`);
  const environ = await sb.exec(['cat', `/proc/${process.pid}/environ`]);
  assert.notEqual(environ.status, 0);
});
