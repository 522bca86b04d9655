import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CGROUP_PREFIX, detectCgroupFs } from '../src/sandbox/cgroup.js';
import { defaultLimits } from '../src/config/limits.js';
import { runCli } from './helpers/cli.js';
import { needsRoot, tempHome, testSandbox } from './helpers/sandbox-bench.js';

const MiB = 2 ** 20;

/** A guest program that fills `mb` MiB of memory, says so, and keeps it a moment. */
const hold = (mb: number) =>
  `const b = Buffer.alloc(${mb} * 2 ** 20, 1); console.log('held ${mb}', b.length > 0); setTimeout(() => {}, 300);`;

test(
  '--memory holds for the whole sandbox: 32 MB fit in 128m, 512 MB do not',
  { skip: needsRoot },
  async (t) => {
    const sb = await testSandbox(t, { limits: { memoryBytes: 128 * MiB, pids: 256, cpus: null } });
    const small = await sb.exec(['node', '-e', hold(32)]);
    assert.equal(small.stdout, 'held 32 true\n', `control: 32 MB fit: ${small.stderr}`);
    const big = await sb.exec(['node', '-e', hold(512)]);
    assert.equal(big.status, 128 + 9, 'the kernel killed the process that went over');
    assert.ok(sb.events().oomKills >= 1);
    // the limit is on the sandbox, not per process: three 64 MB processes cannot all hold
    const three = await sb.exec([
      'sh',
      '-c',
      `for i in 1 2 3; do node -e "${hold(64)}; setTimeout(()=>{},1500)" & done; wait`,
    ]);
    assert.ok((three.stdout.match(/held 64/g) ?? []).length < 3, three.stdout);
    // tmpfs files count too: /dev/shm is no way around the limit
    const shm = await sb.exec([
      'sh',
      '-c',
      'dd if=/dev/zero of=/dev/shm/fill bs=1M count=512 2>/dev/null; echo $?',
    ]);
    assert.notEqual(shm.stdout.trim(), '0', 'wrote 512 MB to /dev/shm under a 128m limit');
  },
);

test(
  'with no flags a guest cannot run 2,500 processes; --pids lowers the cap',
  { skip: needsRoot },
  async (t) => {
    assert.equal(defaultLimits().pids, 1024);
    const sb = await testSandbox(t);
    // a fork bomb that keeps count: each child sleeps, a refused fork is counted, not fatal
    const script = `import os, time
started = 0
for _ in range(2500):
    try:
        pid = os.fork()
    except OSError:
        continue
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    started += 1
print(started, flush=True)`;
    const r = await sb.exec(['python3', '-c', script]);
    const running = Number(r.stdout.trim());
    assert.ok(running > 100 && running < 1024, `${running} processes ran at once: ${r.stderr}`);
    assert.ok(sb.events().forksRefused > 0, 'the kernel refused the forks past the cap');

    const small = await testSandbox(t, { limits: { ...defaultLimits(), pids: 20 } });
    const capped = await small.exec(['python3', '-c', script]);
    const cappedAt = Number(capped.stdout.trim());
    assert.ok(cappedAt > 0 && cappedAt < 20, `${cappedAt} processes under --pids 20`);
  },
);

test('--cpus sets a CPU quota the kernel enforces', { skip: needsRoot }, async (t) => {
  const sb = await testSandbox(t, { limits: { ...defaultLimits(), cpus: 0.2 } });
  await sb.exec(['node', '-e', 'const end = Date.now() + 400; while (Date.now() < end);']);
  const fs = detectCgroupFs();
  const dir = fs.version === 2 ? join(fs.root, CGROUP_PREFIX + sb.id) : join(fs.cpu!, CGROUP_PREFIX + sb.id);
  const stat = readFileSync(join(dir, 'cpu.stat'), 'utf8');
  const throttled = Number(/^nr_throttled (\d+)$/m.exec(stat)?.[1]);
  assert.ok(throttled > 0, `the busy guest was never throttled: ${stat}`);
});

test(
  'airlock run: --memory, the config file, and a line saying a limit was hit',
  { skip: needsRoot },
  async (t) => {
    const home = tempHome(t);
    const flag = await runCli(['run', '--no-workdir', '--memory', '96m', '--', 'node', '-e', hold(256)], {
      AIRLOCK_HOME: home,
    });
    assert.equal(flag.status, 137);
    assert.match(
      flag.stderr,
      /airlock: the sandbox reached its memory limit \(96 MiB\): 1 process\(es\) killed; see --memory/,
    );
    const config = join(home, 'config.json');
    writeFileSync(config, JSON.stringify({ limits: { memory: '64m', pids: 64 } }));
    const fromFile = await runCli(
      ['run', '--config', config, '--no-workdir', '--', 'node', '-e', hold(128)],
      {
        AIRLOCK_HOME: home,
      },
    );
    assert.equal(fromFile.status, 137, fromFile.stderr);
    const fits = await runCli(
      ['run', '--config', config, '--no-workdir', '--memory', '256m', '--', 'node', '-e', hold(128)],
      {
        AIRLOCK_HOME: home,
      },
    );
    assert.equal(fits.stdout, 'held 128 true\n', `the flag overrides the file: ${fits.stderr}`);
    for (const [args, message] of [
      [['--memory', 'lots'], /--memory lots: expected a size like 512m/],
      [['--pids', '2'], /--pids 2: expected a whole number of processes, at least 8/],
      [['--cpus=-1'], /--cpus -1: expected a number of CPUs/],
    ] as const) {
      const bad = await runCli(['run', ...args, '--', 'true'], { AIRLOCK_HOME: home });
      assert.equal(bad.status, 125);
      assert.match(bad.stderr, message);
    }
  },
);
