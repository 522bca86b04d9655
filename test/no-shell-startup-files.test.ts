import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from './helpers/cli.js';
import { needsRoot, tempHome } from './helpers/sandbox-bench.js';

test("building a sandbox runs no shell, so none of root's startup files", { skip: needsRoot }, async (t) => {
  const home = tempHome(t);
  const rootHome = join(home, 'root-home');
  mkdirSync(rootHome);
  const mark = join(home, 'a-shell-started');
  // every way a shell picks up startup code: BASH_ENV and ENV for `bash -c`/`sh -c`, and
  // ~/.bashrc for bash's "remote shell" rule (stdin a socket, SHLVL below 2)
  const startup = join(home, 'startup.sh');
  writeFileSync(startup, `touch ${mark}\n`);
  chmodSync(startup, 0o755);
  writeFileSync(join(rootHome, '.bashrc'), `touch ${mark}\n`);
  const env = { AIRLOCK_HOME: home, HOME: rootHome, BASH_ENV: startup, ENV: startup, SHLVL: '0' };
  const r = await runCli(['run', '--no-workdir', '--', 'true'], env);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(
    existsSync(mark),
    false,
    'a shell read a startup file while airlock built or removed the sandbox',
  );
  // control: the same environment does make a shell leave the mark
  const { execFileSync } = await import('node:child_process');
  execFileSync('bash', ['-c', 'true'], { env: { ...process.env, ...env } });
  assert.equal(existsSync(mark), true);
});
