import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  existsSync,
  lchownSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isAirlockError } from '../src/errors.js';
import { openDatabase } from '../src/store/database.js';
import { runCli } from './helpers/cli.js';
import { startWorker } from './helpers/line-worker.js';
import { needsRoot } from './helpers/sandbox-bench.js';
import { tempDir } from './helpers/temp-dir.js';

const DATABASE = fileURLToPath(new URL('../src/store/database.ts', import.meta.url));
/** nobody: an owner other than root */
const USER = 65534;

function dir(path: string, mode: number, uid = 0): string {
  mkdirSync(path);
  chownSync(path, uid, uid);
  chmodSync(path, mode);
  return path;
}

/** Opens (and closes) airlock.db in `home`. */
const open = (home: string) => openDatabase({ home }).close();

/** AIRLOCK_ERR_STATE naming `path` and what is wrong with it. */
const refused = (path: string, problem: RegExp) => (e: unknown) =>
  isAirlockError(e) &&
  e.code === 'AIRLOCK_ERR_STATE' &&
  e.message.includes(` ${path} `) &&
  problem.test(e.message) &&
  (e.hint ?? '').includes(path);

test(
  'a home another user owns is refused, naming it, its owner, its mode and the fix',
  { skip: needsRoot },
  (t) => {
    const home = dir(join(tempDir(t).dir, 'home'), 0o700, USER);
    assert.throws(
      () => open(home),
      (e: unknown) =>
        refused(home, /is owned by another user \(owner uid 65534, mode 0700\)/)(e) &&
        isAirlockError(e) &&
        e.hint!.startsWith(`sudo chown root:root ${home} && sudo chmod 0700 ${home}, or set AIRLOCK_HOME`),
    );
    assert.equal(existsSync(join(home, 'airlock.db')), false, 'nothing was written into it');
    chownSync(home, 0, 0);
    open(home); // control: the same directory, root's, is fine
  },
);

test(
  'a home below a directory another user owns is refused, naming that directory',
  { skip: needsRoot },
  (t) => {
    const parent = dir(join(tempDir(t).dir, 'parent'), 0o755, USER);
    const home = dir(join(parent, 'home'), 0o700);
    assert.throws(() => open(home), refused(parent, /is owned by another user/));
    const missing = join(parent, 'new-home');
    assert.throws(() => open(missing), refused(parent, /is owned by another user/));
    assert.equal(existsSync(missing), false, 'nothing is made below an untrusted directory');
  },
);

test('a home writable by group or others is refused, sticky or not', { skip: needsRoot }, (t) => {
  const root = tempDir(t).dir;
  for (const mode of [0o770, 0o730, 0o703, 0o1777]) {
    const home = dir(join(root, mode.toString(8)), mode);
    assert.throws(() => open(home), refused(home, /is writable by group or others/), mode.toString(8));
    assert.equal(statSync(home).mode & 0o7777, mode, 'left as it was, not silently changed');
  }
});

test('a symlink another user owns anywhere in the path is refused', { skip: needsRoot }, (t) => {
  const root = tempDir(t).dir;
  dir(join(dir(join(root, 'real'), 0o755), 'home'), 0o700);
  const link = join(root, 'link');
  symlinkSync('real', link);
  lchownSync(link, USER, USER);
  const home = join(link, 'home');
  assert.throws(() => open(home), refused(link, /is a symlink owned by another user/));
  lchownSync(link, 0, 0);
  open(home); // control: root's own symlink to root's directory is fine
});

test(
  'a root-owned symlink into a directory another user owns is refused by its real path',
  { skip: needsRoot },
  (t) => {
    const root = tempDir(t).dir;
    const theirs = dir(join(root, 'theirs'), 0o755, USER);
    dir(join(theirs, 'home'), 0o700);
    symlinkSync('theirs', join(root, 'link'));
    assert.throws(() => open(join(root, 'link', 'home')), refused(theirs, /is owned by another user/));
  },
);

test('a world-writable parent is accepted only with the sticky bit, like /tmp', { skip: needsRoot }, (t) => {
  const tmp = statSync('/tmp');
  assert.ok(
    tmp.uid === 0 && (tmp.mode & 0o1777) === 0o1777,
    'control: /tmp is root’s, sticky and world-writable',
  );
  const home = mkdtempSync('/tmp/airlock-sticky-');
  t.after(() => rmSync(home, { recursive: true, force: true }));
  open(home);

  const root = tempDir(t).dir;
  const sticky = dir(join(root, 'sticky'), 0o1777);
  open(join(sticky, 'home'));
  const open777 = dir(join(root, 'open'), 0o777);
  assert.throws(() => open(join(open777, 'home')), refused(open777, /is writable by group or others/));
});

test('airlock run refuses a home the caller owns, and makes nothing', { skip: needsRoot }, async (t) => {
  const home = dir(join(tempDir(t).dir, 'home'), 0o700, USER);
  const r = await runCli(['run', '--', 'true'], { AIRLOCK_HOME: home });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /AIRLOCK_ERR_STATE/);
  assert.ok(r.stderr.includes(`refusing state directory ${home}`), r.stderr);
  // no database, so no sandbox record: and a sandbox's kernel resources come only after its record
  assert.equal(existsSync(join(home, 'airlock.db')), false);
});

test(
  'run unprivileged (as for airlock audit), airlock accepts a home its own user owns',
  { skip: needsRoot },
  async (t) => {
    const root = tempDir(t).dir;
    chmodSync(root, 0o755);
    const home = dir(join(root, 'home'), 0o700, USER);
    const worker = startWorker(`import { openDatabase } from ${JSON.stringify(DATABASE)};
    process.setgid(${USER});
    process.setuid(${USER});
    try {
      openDatabase({ home: ${JSON.stringify(home)} }).close();
      console.log('ok');
    } catch (e) {
      console.log(String(e));
    }`);
    t.after(() => worker.stop());
    assert.equal(await worker.next(), 'ok');
    assert.equal(statSync(join(home, 'airlock.db')).uid, USER);
  },
);
