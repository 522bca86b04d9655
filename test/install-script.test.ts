import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { REPO } from './helpers/package.js';
import { needsRoot } from './helpers/sandbox-bench.js';

const run = promisify(execFile);

/** A throwaway system user with a home in `dir`, removed after the test. Returns its uid. */
async function throwawayUser(t: TestContext, dir: string): Promise<{ name: string; uid: number }> {
  const name = `airlock-t${process.pid}`;
  await run('useradd', ['--system', '--user-group', '--create-home', '--home-dir', join(dir, 'home'), name]);
  t.after(() => run('userdel', [name]));
  const { stdout } = await run('id', ['-u', name]);
  return { name, uid: Number(stdout.trim()) };
}

/**
 * A clone as a user would have it: the tracked files, theirs, and a node_modules that an earlier
 * install run as root left root's (copied from this checkout, so nothing is downloaded).
 */
async function userClone(dir: string, user: string): Promise<string> {
  const clone = join(dir, 'clone');
  await run(
    'sh',
    ['-c', `mkdir "$1" && git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$1"`, 'sh', clone],
    {
      cwd: REPO,
    },
  );
  await run('chown', ['-R', `${user}:`, clone]);
  await run('cp', ['-a', join(REPO, 'node_modules'), join(clone, 'node_modules')]);
  return clone;
}

/**
 * An `npm` first on PATH that logs who runs it; `npm ci` only marks node_modules as installed
 * (the test has no registry), everything else goes to the real npm.
 */
async function npmWitness(dir: string): Promise<{ path: string; log: string }> {
  const bin = join(dir, 'bin');
  const log = join(dir, 'npm.log');
  const { stdout: realNpm } = await run('sh', ['-c', 'command -v npm']);
  await run('mkdir', ['-m', '0755', bin]);
  writeFileSync(log, '');
  chmodSync(log, 0o666);
  writeFileSync(
    join(bin, 'npm'),
    `#!/bin/sh\necho "$(id -un) npm $*" >> ${log}\n` +
      `if [ "$1" = ci ]; then touch node_modules/.package-lock.json; exit 0; fi\nexec ${realNpm.trim()} "$@"\n`,
    { mode: 0o755 },
  );
  return { path: `${bin}:${process.env.PATH}`, log };
}

test(
  'install.sh run as root in a user’s clone runs npm as that user, leaves their files theirs, says what it does and skips what is done',
  { skip: needsRoot },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-install-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    chmodSync(dir, 0o755);
    const user = await throwawayUser(t, dir);
    const clone = await userClone(dir, user.name);
    const npm = await npmWitness(dir);
    // the lockfile changed since the last npm ci
    const past = new Date('2020-01-01T00:00:00Z');
    utimesSync(join(clone, 'node_modules/.package-lock.json'), past, past);
    const install = () =>
      run('bash', ['scripts/install.sh'], {
        cwd: clone,
        env: { ...process.env, PATH: npm.path },
        timeout: 300_000,
      });

    const first = await install();
    assert.match(first.stdout, /^install: \[1\/4\] system packages: .*\ninstall: all present$/m);
    assert.match(first.stdout, /^install: \[3\/4\] npm dependencies: npm ci as airlock-t\d+/m);
    assert.match(first.stdout, /^install: \[4\/4\] build: npm run build as airlock-t\d+$/m);
    const calls = readFileSync(npm.log, 'utf8').trim().split('\n');
    assert.deepEqual(
      calls.map((l) => l.split(' ').slice(0, 3).join(' ')),
      [`${user.name} npm ci`, `${user.name} npm run`],
      'npm ran as the clone’s owner, never as root',
    );
    for (const path of [
      'node_modules',
      'node_modules/typescript/package.json',
      'node_modules/.package-lock.json',
      'dist/bin/airlock.js',
    ])
      assert.equal(statSync(join(clone, path)).uid, user.uid, `${path} is the user’s`);
    assert.ok(statSync(join(clone, 'dist/bin/airlock.js')).mode & 0o111, 'the bin is executable');

    const second = await install();
    assert.match(second.stdout, /^install: \[3\/4\] npm dependencies: up to date with package-lock\.json$/m);
    assert.match(second.stdout, /^install: \[4\/4\] build: up to date$/m);
    assert.equal(readFileSync(npm.log, 'utf8').trim().split('\n').length, 2, 'the second run ran no npm');
  },
);
