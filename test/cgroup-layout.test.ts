import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createCgroup, detectCgroupFs, hostCgroupFs, listSandboxCgroups } from '../src/sandbox/cgroup.js';
import { AirlockError } from '../src/errors.js';
import { tempDir } from './helpers/temp-dir.js';

const V1 = `30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 30 0:33 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`;
const V2 = `25 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot`;

test('the cgroup layout is read from mountinfo: v2, v1, and hybrid as v1', () => {
  assert.deepEqual(detectCgroupFs(V2), { version: 2, root: '/sys/fs/cgroup' });
  assert.deepEqual(detectCgroupFs(V1), {
    version: 1,
    memory: '/sys/fs/cgroup/memory',
    pids: '/sys/fs/cgroup/pids',
    cpu: '/sys/fs/cgroup/cpu,cpuacct',
    freezer: '/sys/fs/cgroup/freezer',
  });
  assert.throws(
    () =>
      detectCgroupFs(
        V1.split('\n')
          .filter((l) => !l.includes('memory'))
          .join('\n'),
      ),
    (e: unknown) => e instanceof AirlockError && e.code === 'AIRLOCK_ERR_CGROUP',
  );
});

test("the host's layout is read once: each sandbox's cgroup keeps no copy of mountinfo", () => {
  // its paths are slices of the ~10 KB text, which a layout read per sandbox kept alive each time
  assert.equal(hostCgroupFs(), hostCgroupFs());
  assert.deepEqual(hostCgroupFs(), detectCgroupFs(), 'control: the same layout');
});

// cgroup v2 with controllers cannot be mounted on this v1 machine: its file protocol is checked
// against a folder laid out as the kernel lays out /sys/fs/cgroup (the v1 path runs for real in
// test/limits.test.ts)
test('v2: controllers enabled at the root, limits written to the sandbox cgroup', (t) => {
  const root = tempDir(t).dir;
  writeFileSync(join(root, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma misc\n');
  writeFileSync(join(root, 'cgroup.subtree_control'), 'memory\n');
  const fs = { version: 2 as const, root };
  const dir = join(root, 'airlock-0badc0de');
  const made = createCgroup('0badc0de', { memoryBytes: 256 * 2 ** 20, pids: 64, cpus: 1.5 }, fs);
  assert.equal(made.id, '0badc0de');
  assert.equal(readFileSync(join(dir, 'memory.max'), 'utf8'), String(256 * 2 ** 20));
  // memory.swap.max is written only where the kernel accounts swap (the file exists)
  assert.equal(existsSync(join(dir, 'memory.swap.max')), false);
  assert.equal(readFileSync(join(dir, 'pids.max'), 'utf8'), '64');
  assert.equal(readFileSync(join(dir, 'cpu.max'), 'utf8'), '150000 100000');
  // controllers are enabled one per write (the real file takes `+name` lines)
  assert.equal(readFileSync(join(root, 'cgroup.subtree_control'), 'utf8'), '+cpu');
  assert.deepEqual(listSandboxCgroups(fs), ['0badc0de']);
  writeFileSync(join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n');
  writeFileSync(join(dir, 'pids.events'), 'max 7\n');
  assert.deepEqual(made.events(), { oomKills: 1, forksRefused: 7 });
});

test('v2: a missing controller is a clear error', (t) => {
  const root = tempDir(t).dir;
  writeFileSync(join(root, 'cgroup.controllers'), 'cpu io\n');
  writeFileSync(join(root, 'cgroup.subtree_control'), '');
  assert.throws(
    () => createCgroup('0badc0de', { memoryBytes: 2 ** 30, pids: 64, cpus: null }, { version: 2, root }),
    /cgroup controllers not available in .*: memory, pids/,
  );
  assert.equal(existsSync(join(root, 'airlock-0badc0de')), false);
});
