import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { needsRoot, testSandbox } from './helpers/sandbox-bench.js';

/** Runs a command on the host as `uid`: what the caller's own shell could do. */
function asUser(uid: number, command: string[]): string {
  return execFileSync('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', ...command], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

test("the kernel keyring of the guest's uid is closed to it", { skip: needsRoot }, async (t) => {
  const uid = 4322;
  const canary = `CANARY_${randomBytes(12).toString('hex')}`;
  const description = `airlock-test-${randomBytes(4).toString('hex')}`;
  // the caller keeps a token in its user keyring (shared by every process of its uid)
  asUser(uid, ['keyctl', 'add', 'user', description, canary, '@u']);
  t.after(() => asUser(uid, ['keyctl', 'purge', 'user', description]));
  // positive control: the same uid on the host reads it
  assert.equal(
    asUser(uid, ['sh', '-c', `keyctl print $(keyctl search @u user ${description})`]).trim(),
    canary,
  );

  const sb = await testSandbox(t, { user: String(uid) });
  const r = await sb.exec([
    'sh',
    '-c',
    `keyctl show @u; keyctl print $(keyctl search @u user ${description})`,
  ]);
  assert.ok(!r.stdout.includes(canary) && !r.stderr.includes(canary), 'the keyring leaked the token');
  assert.match(r.stderr, /Operation not permitted/);
});

test('System V IPC of the host is not shared', { skip: needsRoot }, async (t) => {
  const id = execFileSync('ipcmk', ['-M', '4096', '-p', '0666'], { encoding: 'utf8' }).match(
    /(\d+)\s*$/,
  )?.[1];
  assert.ok(id, 'control: a world-writable shared memory segment exists on the host');
  t.after(() => execFileSync('ipcrm', ['-m', id]));
  assert.match(execFileSync('ipcs', ['-m'], { encoding: 'utf8' }), new RegExp(`\\b${id}\\b`));
  const sb = await testSandbox(t);
  const r = await sb.exec(['ipcs', '-m']);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout, new RegExp(`\\b${id}\\b`), 'the host segment is visible');
});

test(
  'no typing into a terminal, no user namespaces; threads and forks still work',
  { skip: needsRoot },
  async (t) => {
    const sb = await testSandbox(t);
    const python = `import ctypes, fcntl, pty, termios
m, s = pty.openpty()
for name, req in (("TIOCSTI", termios.TIOCSTI), ("TIOCLINUX", 0x541C)):
    try:
        fcntl.ioctl(s, req, b"x"); print(name, "allowed")
    except OSError as e:
        print(name, e.errno)
print("TIOCGWINSZ", len(fcntl.ioctl(s, termios.TIOCGWINSZ, b"\\0" * 8)))
libc = ctypes.CDLL(None, use_errno=True)
print("userns", "allowed" if libc.unshare(0x10000000) == 0 else ctypes.get_errno())
`;
    const r = await sb.exec(['python3', '-c', python]);
    assert.equal(r.stdout, 'TIOCSTI 1\nTIOCLINUX 1\nTIOCGWINSZ 8\nuserns 1\n', r.stderr);
    const cli = await sb.exec(['unshare', '--user', 'true']);
    assert.notEqual(cli.status, 0);
    // control: ordinary threads (clone3 falls back to clone) and forks are untouched
    const threads = await sb.exec([
      'node',
      '-e',
      `const { Worker } = require('worker_threads'); new Worker('require("worker_threads").parentPort.postMessage(6*7)', { eval: true }).on('message', (m) => console.log(m, require('child_process').execSync('echo forked').toString().trim()));`,
    ]);
    assert.equal(threads.stdout, '42 forked\n', threads.stderr);
  },
);
