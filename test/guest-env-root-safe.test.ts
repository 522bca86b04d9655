import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isAirlockError } from '../src/errors.js';
import { assertRootSafeEnv } from '../src/sandbox/guest-env.js';
import { runCli } from './helpers/cli.js';
import { needsRoot, tempHome, testSandbox } from './helpers/sandbox-bench.js';

const refused = (code: string) => (e: unknown) => isAirlockError(e) && e.code === code;

test('variables the root-run tools would obey are refused; plain ones pass', () => {
  for (const env of <Record<string, string>[]>[
    { LD_PRELOAD: '/tmp/evil.so' },
    { LD_LIBRARY_PATH: '/tmp' },
    { GCONV_PATH: '/tmp' },
    { GLIBC_TUNABLES: 'glibc.malloc.check=3' },
    { LANG: '../../tmp/evil' },
    { LC_ALL: '/tmp/locale' },
    { TZ: '/etc/shadow' },
    { TZ: ':/tmp/zone' },
  ]) {
    assert.throws(() => assertRootSafeEnv(env), refused('AIRLOCK_ERR_UNSAFE_ENV'), JSON.stringify(env));
  }
  assertRootSafeEnv({ LANG: 'C.UTF-8', TZ: 'Europe/Berlin', FOO: '/any/path', PATH: '/usr/bin' });
});

test(
  'airlock run --env LD_PRELOAD is refused before anything runs as root with it',
  { skip: needsRoot },
  async (t) => {
    // before: ip, bwrap and setpriv ran as root with the preload (ld.so complained on stderr)
    const r = await runCli(
      ['run', '--no-workdir', '--env', 'LD_PRELOAD=/nonexistent-airlock.so', '--', 'true'],
      {
        AIRLOCK_HOME: tempHome(t),
      },
    );
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /LD_PRELOAD is refused: the dynamic loader obeys it .*\[AIRLOCK_ERR_UNSAFE_ENV\]/);
    assert.doesNotMatch(r.stderr, /ld\.so/);
  },
);

test(
  'the library refuses it too, per sandbox and per command; the guest may set it itself',
  { skip: needsRoot },
  async (t) => {
    const sb = await testSandbox(t);
    assert.throws(
      () => sb.spawn(['true'], { env: { LD_PRELOAD: '/x.so' } }),
      refused('AIRLOCK_ERR_UNSAFE_ENV'),
    );
    const inside = await sb.exec(['sh', '-c', 'LD_PRELOAD= LANG=C.UTF-8 sh -c "echo ok"']);
    assert.equal(inside.stdout, 'ok\n');
  },
);
