import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { guestViewArgs } from '../src/sandbox/guest-view.js';
import { guestFilter, guestFilterBytes } from '../src/sandbox/seccomp.js';
import { tempDir } from './helpers/temp-dir.js';

test('the view: system read-only, private scratch, then binds, then masks over them', (t) => {
  const data = tempDir(t).dir;
  chmodSync(data, 0o755);
  const secret = join(data, 'openai.key');
  writeFileSync(secret, 'x');
  const args = guestViewArgs({
    home: '/home/guest',
    workdir: '/srv/project',
    mounts: [{ source: data, target: '/data', readOnly: true }],
    hidden: [secret, '/var/lib/airlock'],
  });
  const at = (...seq: string[]) => {
    const i = args.findIndex((_, k) => seq.every((s, j) => args[k + j] === s));
    assert.ok(i >= 0, `${seq.join(' ')} in ${JSON.stringify(args)}`);
    return i;
  };
  at('--ro-bind', '/usr', '/usr');
  at('--ro-bind', '/etc', '/etc');
  for (const dir of ['/tmp', '/var/tmp', '/dev/shm']) at('--perms', '1777', '--tmpfs', dir);
  at('--perms', '0777', '--tmpfs', '/home/guest');
  const workdir = at('--perms', '0755', '--dir', '/srv', '--bind', '/srv/project', '/srv/project');
  const mount = at('--ro-bind', data, '/data');
  // the secret shows through the mount, so it is masked there, after the mount
  assert.ok(at('--ro-bind', '/dev/null', '/data/openai.key') > mount);
  assert.ok(mount > workdir);
  // a hidden path nothing shows needs no mask; nothing of the host is bound whole
  assert.ok(!args.includes('/var/lib/airlock'));
  assert.ok(!args.some((a, i) => a === '/' && ['--bind', '--ro-bind'].includes(args[i - 1]!)));
  assert.deepEqual(args.slice(-2), ['--chdir', '/srv/project']);
  assert.deepEqual(guestViewArgs({ home: '/home/guest', workdir: null, mounts: [], hidden: [] }).slice(-2), [
    '--chdir',
    '/home/guest',
  ]);
});

test('the system-call filter is a well-formed program for each architecture', () => {
  for (const arch of ['x64', 'arm64'] as const) {
    const program = guestFilter(arch);
    assert.equal(guestFilterBytes(arch).length, program.length * 8);
    // first the architecture, and a kill for any other
    assert.deepEqual(
      program.slice(0, 3).map((i) => i.code),
      [0x20, 0x15, 0x06],
    );
    assert.equal(program[0]!.k, 4);
    assert.equal(program[2]!.k, 0x80000000);
    // every jump lands inside the program, and the program ends in a return
    program.forEach((insn, i) => {
      if ((insn.code & 0x07) === 0x05) {
        assert.ok(i + 1 + insn.jt < program.length && i + 1 + insn.jf < program.length, `jump at ${i}`);
      }
    });
    assert.equal(program.at(-1)!.code, 0x06);
    assert.equal(program.at(-1)!.k, 0x7fff0000, 'what is not named is allowed');
  }
});
