import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { leftoversOf, sandboxHome } from './helpers/home-leftovers.js';
import { localRegistry, packTarball, REPO } from './helpers/package.js';
import { needsRoot } from './helpers/sandbox-bench.js';

const run = promisify(execFile);
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

/** A temp folder removed after the test. */
function tempDir(t: TestContext, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * npm's environment for the test: the stand-in registry, an empty cache of the test's own,
 * and no user or global npmrc, so nothing is read from or written to the machine's npm setup.
 */
function npmEnv(t: TestContext, registry: string): NodeJS.ProcessEnv {
  const dir = tempDir(t, 'airlock-npm-');
  return {
    PATH: process.env.PATH,
    HOME: dir,
    npm_config_registry: registry,
    npm_config_cache: join(dir, 'cache'),
    npm_config_userconfig: join(dir, 'npmrc'),
    npm_config_globalconfig: join(dir, 'global-npmrc'),
    npm_config_ignore_scripts: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
}

/** Only the fresh prefix, node, and the system folders airlock's tools live in. */
function cleanPath(prefix: string): string {
  return [join(prefix, 'bin'), dirname(process.execPath), '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(':');
}

test('the packed package ships an executable bin and the folders airlock reads at run time', async () => {
  const tarball = await packTarball();
  assert.ok(
    statSync(join(REPO, 'dist/bin/airlock.js')).mode & 0o111,
    'the build leaves dist/bin/airlock.js executable',
  );
  const { stdout } = await run('tar', ['-tvzf', tarball], { maxBuffer: 16 * 1024 * 1024 });
  const entry = (path: string) => stdout.split('\n').find((l) => l.endsWith(` package/${path}`));
  assert.match(entry('dist/bin/airlock.js') ?? '', /^-rwxr-xr-x /, 'the bin is executable in the tarball');
  for (const path of [
    'docs/errors.md',
    'docs/config.md',
    'netns/airlock.nft',
    'sql/001_sandboxes.sql',
    'guest/selftest-probe.mjs',
  ])
    assert.ok(entry(path), `the package ships ${path}`);
});

test('npm install -g of the tarball into a fresh prefix gives a working airlock', async (t) => {
  const tarball = await packTarball();
  const env = npmEnv(t, await localRegistry(t));
  const prefix = tempDir(t, 'airlock-prefix-');
  await run('npm', ['install', '-g', '--prefix', prefix, tarball], { env, timeout: 300_000 });
  const bin = join(prefix, 'bin', 'airlock');
  const airlock = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
    run('airlock', args, { env: { PATH: cleanPath(prefix), ...extra }, timeout: 60_000 });

  await t.test('the bin is the installed package’s, with its docs beside it', () => {
    const pkg = join(prefix, 'lib/node_modules/airlock');
    assert.equal(realpathSync(bin), join(pkg, 'dist/bin/airlock.js'));
    assert.ok(statSync(bin).mode & 0o111, 'executable');
    assert.ok(existsSync(join(pkg, 'docs/errors.md')), 'error hints point to docs/, which is installed');
  });

  await t.test('--version and --help', async () => {
    assert.equal((await airlock(['--version'])).stdout.trim(), `airlock ${VERSION}`);
    assert.match((await airlock(['--help'])).stdout, /^Usage: airlock /m);
  });

  await t.test('airlock run as root', { skip: needsRoot }, async () => {
    const home = sandboxHome(t);
    const { stdout } = await airlock(['run', '--quiet', '--', 'sh', '-c', 'echo inside'], {
      AIRLOCK_HOME: home,
    });
    assert.equal(stdout, 'inside\n');
    await airlock(['run', '--', 'true'], { AIRLOCK_HOME: home });
    const left = await leftoversOf([home]);
    assert.equal(left.recorded, 2, 'control: two sandboxes were made in this home');
    assert.deepEqual(
      { ...left, recorded: 0 },
      { recorded: 0, netns: [], links: [], elements: [], cgroups: [] },
    );
  });

  await t.test('npx from the tarball', async () => {
    const { stdout } = await run('npx', ['--yes', '--package', tarball, '--', 'airlock', '--version'], {
      env,
      cwd: tempDir(t, 'airlock-npx-'),
      timeout: 300_000,
    });
    assert.equal(stdout.trim(), `airlock ${VERSION}`);
  });
});
