import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DATABASE_FILE } from '../src/store/database.js';
import { needsRoot, tempHome, testSandbox } from './helpers/sandbox-bench.js';

const BIN = fileURLToPath(new URL('../src/cli/bin.ts', import.meta.url));

test('the state directory and database are unreadable from the guest', { skip: needsRoot }, async (t) => {
  const home = tempHome(t);
  const sb = await testSandbox(t, { home });
  const ls = await sb.exec(['ls', home]);
  assert.notEqual(ls.status, 0);
  assert.match(ls.stderr, /No such file or directory/, 'the state directory is not in the view');
  const cat = await sb.exec(['cat', join(home, DATABASE_FILE)]);
  assert.notEqual(cat.status, 0);
  const def = await sb.exec(['sh', '-c', 'cat /var/lib/airlock/airlock.db >/dev/null']);
  assert.notEqual(def.status, 0);
  // positive control: the file exists and root reads it
  const { statSync } = await import('node:fs');
  assert.equal(statSync(join(home, DATABASE_FILE)).mode & 0o777, 0o600);
  assert.equal(statSync(home).mode & 0o777, 0o700);
});

test(
  'no real key or invoking variable reaches the guest, argv or output (canary)',
  { skip: needsRoot },
  async (t) => {
    const canary = `CANARY_${randomBytes(12).toString('hex')}`;
    const home = tempHome(t);
    // What the guest can see: its environment, every /proc entry of its PID namespace, and the
    // usual writable and config places. Printed whole, then grepped here.
    const look = [
      'env',
      'cat /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null | tr "\\0" "\\n"',
      'grep -rs . /etc/resolv.conf /etc/hosts /tmp /var/tmp /dev/shm /run 2>/dev/null | head -c 2000000',
      'echo END-OF-VIEW',
      'sleep 2',
    ].join('; ');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', BIN, 'run', '--cred', 'OPENAI_API_KEY', '--', 'sh', '-c', look],
      {
        env: { ...process.env, AIRLOCK_HOME: home, OPENAI_API_KEY: canary, AIRLOCK_TEST_CANARY: canary },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    let argvChecked = false;
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (!argvChecked && out.includes('END-OF-VIEW')) {
        argvChecked = true;
        // while the sandbox runs: no process on the host carries the key in its argv
        for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
          let cmdline = '';
          try {
            cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
          } catch {
            continue; // exited meanwhile
          }
          assert.ok(!cmdline.includes(canary), `the real key is in the argv of pid ${pid}`);
        }
      }
    });
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(status, 0, err);
    assert.ok(argvChecked, 'control: argv was checked while the guest ran');
    assert.match(out, /^OPENAI_API_KEY=sk-airlock-/m, 'control: the guest holds the placeholder');
    assert.ok(!out.includes(canary), 'the canary leaked into the guest');
    assert.ok(!err.includes(canary), 'the canary leaked into airlock output');
    assert.doesNotMatch(out, /^(AIRLOCK_TEST_CANARY|AIRLOCK_HOME)=/m);
  },
);
