import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isAirlockError } from '../src/errors.js';
import { close, O_RDONLY, open } from '../src/net/libc.js';
import { vforkSpawn, type VforkedProgram } from '../src/net/vfork-spawn.js';
import { countSpawns } from './helpers/spawn-counter.js';

const SH = '/bin/sh';
const PIPED = ['to-child', 'from-child', 'from-child'] as const;

/** Runs `script` under sh with stdio piped; collects its output and how it ended. */
async function sh(script: string, input = '', cwd = '/') {
  const program = vforkSpawn(SH, [SH, '-c', script], {
    env: { PATH: '/usr/bin:/bin' },
    cwd,
    fds: PIPED,
    detached: false,
  });
  return { ...(await collect(program, input)), pid: program.pid };
}

async function collect(program: VforkedProgram, input = '') {
  let stdout = '';
  let stderr = '';
  program.pipes[1]!.on('data', (b: Buffer) => (stdout += b.toString()));
  program.pipes[2]!.on('data', (b: Buffer) => (stderr += b.toString()));
  program.pipes[0]!.on('error', () => undefined).end(input); // EPIPE once it has exited
  return { ...(await program.closed), stdout, stderr };
}

const openDescriptors = () => readdirSync('/proc/self/fd').length;

test('a program gets its input, arguments and working directory, and gives back its output and exit code', async () => {
  const r = await sh('pwd; tr a-z A-Z; echo oops >&2; exit 3', 'hello\n', '/tmp');
  assert.deepEqual(r.stdout, '/tmp\nHELLO\n');
  assert.equal(r.stderr, 'oops\n');
  assert.deepEqual([r.code, r.signal], [3, null]);
  assert.ok(r.pid > 0);
});

test('a program ended by a signal reports the signal', async () => {
  const program = vforkSpawn('/bin/sleep', ['/bin/sleep', '30'], {
    env: {},
    cwd: '/',
    fds: ['ignore', 'ignore', 'ignore'],
    detached: false,
  });
  process.kill(program.pid, 'SIGTERM');
  assert.deepEqual(await program.closed, { code: null, signal: 'SIGTERM' });
});

test('the program starts with every signal at its default action and none blocked (Node ignores SIGPIPE)', async () => {
  const r = await sh('grep -E "^Sig(Ign|Blk):" /proc/self/status');
  assert.equal(r.stdout, 'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n');
});

test('the program gets no descriptor but those it is given, not even one this process holds open across exec', async (t) => {
  // open(2) without O_CLOEXEC: what a caller's socket or file looks like to airlock
  const inherited = open('/etc/hostname', O_RDONLY);
  t.after(() => close(inherited));
  const r = await sh('ls /proc/self/fd');
  // 0-2, and the descriptor ls itself holds on /proc/self/fd
  assert.deepEqual(
    r.stdout
      .trim()
      .split('\n')
      .map(Number)
      .sort((a, b) => a - b),
    [0, 1, 2, 3],
  );
  assert.ok(inherited > 3, 'control: the open descriptor is one the program could have seen');
});

test("'inherit' passes this process's own stdio (close-on-exec and non-blocking in Node), blocking", () => {
  // the child writes 1 MB through a pipe Node made non-blocking for itself, and says whether
  // its stdout is blocking (O_NONBLOCK is 04000 in fdinfo's octal flags)
  const child = `grep "^flags:" /proc/self/fdinfo/1 >&2; head -c 1000000 /dev/zero; echo to-stderr >&2`;
  const script = `
    import { vforkSpawn } from ${JSON.stringify(fileURLToPath(new URL('../src/net/vfork-spawn.ts', import.meta.url)))};
    const p = vforkSpawn('/bin/sh', ['/bin/sh', '-c', ${JSON.stringify(child)}], {
      env: {}, cwd: '/', fds: ['inherit', 'inherit', 'inherit'], detached: false });
    process.exitCode = (await p.closed).code;`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 4_000_000,
  });
  assert.equal(r.status, 0, r.stderr.toString());
  assert.equal(r.stdout.length, 1_000_000, 'every byte arrived');
  const [flags, last] = r.stderr.toString().trim().split('\n');
  assert.equal(Number.parseInt(flags!.split(/\s+/)[1]!, 8) & 0o4000, 0, `a blocking stdout: ${flags}`);
  assert.equal(last, 'to-stderr');
});

test('a program that cannot be run throws at once, naming why, and leaves no descriptor behind', () => {
  const before = openDescriptors();
  assert.throws(
    () => vforkSpawn('/nonexistent/program', ['program'], { env: {}, cwd: '/', fds: PIPED, detached: false }),
    (e: unknown) => isAirlockError(e) && e.code === 'AIRLOCK_ERR_GUEST_START' && /ENOENT/.test(e.message),
  );
  assert.equal(openDescriptors(), before);
});

test('many programs ending at once each get their own exit code; child_process children are still reaped by Node', async () => {
  const node = spawn(SH, ['-c', 'exit 42']);
  const nodeExit = new Promise((resolve) => node.once('exit', resolve));
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => sh(`exit ${i}`)));
  assert.deepEqual(
    results.map((r) => r.code),
    Array.from({ length: 20 }, (_, i) => i),
  );
  assert.equal(await nodeExit, 42);
});

test('every program started here is counted by the spawn counter', async (t) => {
  const spawns = countSpawns();
  t.after(() => spawns.stop());
  await sh('true');
  await sh('true');
  assert.equal(spawns.count(), 2);
});
