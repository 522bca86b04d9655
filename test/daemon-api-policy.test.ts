import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../src/config/load-config.js';
import { createSpec, execSpec } from '../src/daemon/api-policy.js';
import { errorCodeOf as code } from './helpers/error-code.js';

const loaded = parseConfig({ credentials: { OPENAI_API_KEY: 'env:ROOTS_OPENAI_KEY' } });
const header = (spec: unknown) => Buffer.from(JSON.stringify(spec)).toString('base64url');

test('a caller never names a secret source of the daemon', () => {
  for (const cred of ['OPENAI_API_KEY=file:/etc/shadow', 'OPENAI_API_KEY=env:HOME', 'GITHUB_TOKEN=env:X']) {
    assert.equal(
      code(() => createSpec({ credentials: [cred] }, loaded)),
      'AIRLOCK_ERR_FORBIDDEN',
      cred,
    );
  }
  // a bare name must be one the config holds (else it would read the daemon's $NAME)
  assert.equal(
    code(() => createSpec({ credentials: ['GITHUB_TOKEN'] }, loaded)),
    'AIRLOCK_ERR_FORBIDDEN',
  );
  assert.equal(
    code(() => createSpec({ credentials: ['OPENAI_API_KEY'] }, loaded)),
    'accepted',
  );
  // a value the caller holds is fine
  const spec = createSpec({ secrets: { GITHUB_TOKEN: 'ghp_caller' } }, loaded);
  assert.deepEqual(spec.secrets, { GITHUB_TOKEN: 'ghp_caller' });
  assert.deepEqual(spec.credentials, []);
  assert.equal(
    code(() => createSpec({ secrets: { GITHUB_TOKEN: 'a\r\nX-Evil: 1' } }, loaded)),
    'AIRLOCK_ERR_SECRET_SOURCE',
  );
});

test('no mounts, working directory, upstreams or other fields: the body is strict', () => {
  for (const extra of [
    { mounts: ['/etc:/etc'] },
    { workdir: '/root' },
    { resolve: { 'api.openai.com': '127.0.0.1' } },
    { upstreamCa: ['/tmp/ca.pem'] },
  ]) {
    assert.equal(
      code(() => createSpec(extra, loaded)),
      'AIRLOCK_ERR_USAGE',
      JSON.stringify(extra),
    );
  }
  assert.deepEqual(createSpec({}, loaded).mounts, []);
  // names end up in log lines and tables: no control characters, spaces or slashes
  for (const name of ['a\nb', 'a b', '../x', '', '-x', 'x'.repeat(65)]) {
    assert.equal(
      code(() => createSpec({ name }, loaded)),
      'AIRLOCK_ERR_USAGE',
      JSON.stringify(name),
    );
  }
  assert.equal(createSpec({ name: 'agent-1.a_b' }, loaded).name, 'agent-1.a_b');
});

test("guests run as the config's daemon.guestUser and no other", () => {
  assert.equal(createSpec({}, loaded).user, 'nobody');
  assert.equal(createSpec({ user: 'nobody' }, loaded).user, 'nobody');
  assert.equal(
    code(() => createSpec({ user: 'root' }, loaded)),
    'AIRLOCK_ERR_FORBIDDEN',
  );
  const other = parseConfig({ daemon: { guestUser: 'daemon' } });
  assert.equal(createSpec({}, other).user, 'daemon');
  assert.equal(
    code(() => createSpec({ user: 'nobody' }, other)),
    'AIRLOCK_ERR_FORBIDDEN',
  );
});

test('variables the root-run tools would obey are refused, in create and exec', () => {
  for (const name of ['LD_PRELOAD', 'LD_LIBRARY_PATH', 'LD_AUDIT', 'GCONV_PATH', 'GLIBC_TUNABLES']) {
    assert.equal(
      code(() => createSpec({ env: { [name]: '/tmp/x.so' } }, loaded)),
      'AIRLOCK_ERR_FORBIDDEN',
      name,
    );
    assert.equal(
      code(() => execSpec(header({ command: ['true'], env: { [name]: 'x' } }))),
      'AIRLOCK_ERR_FORBIDDEN',
    );
  }
  for (const [name, value] of [
    ['LANG', '/tmp/evil'],
    ['LC_ALL', '../../tmp/x'],
    ['LANGUAGE', 'de:/tmp/x'],
    ['TZ', '/tmp/zone'],
    ['TZ', ':/tmp/zone'],
    ['TZ', 'Europe/../../../tmp/zone'],
  ] as const) {
    assert.equal(
      code(() => createSpec({ env: { [name]: value } }, loaded)),
      'AIRLOCK_ERR_FORBIDDEN',
      value,
    );
  }
  assert.deepEqual(createSpec({ env: { LANG: 'C.UTF-8', TZ: 'Europe/Berlin' } }, loaded).env, {
    LANG: 'C.UTF-8',
    TZ: 'Europe/Berlin',
  });
  assert.equal(
    code(() => createSpec({ env: { 'A=B': 'x' } }, loaded)),
    'AIRLOCK_ERR_USAGE',
  );
  assert.deepEqual(createSpec({ env: { FOO: 'bar' } }, loaded).env, { FOO: 'bar' });
});

test('the exec spec is base64url JSON with a non-empty command', () => {
  assert.deepEqual(execSpec(header({ command: ['sh', '-c', 'exit 3'], tty: false })), {
    command: ['sh', '-c', 'exit 3'],
    tty: false,
  });
  assert.equal(
    code(() => execSpec(undefined)),
    'AIRLOCK_ERR_DAEMON_PROTOCOL',
  );
  assert.equal(
    code(() => execSpec('%%%')),
    'AIRLOCK_ERR_DAEMON_PROTOCOL',
  );
  assert.equal(
    code(() => execSpec(header({ command: [] }))),
    'AIRLOCK_ERR_USAGE',
  );
  assert.equal(
    code(() => execSpec(header({ command: ['true'], user: 'root' }))),
    'AIRLOCK_ERR_USAGE',
  );
});

test('limits come from the config, with the caller’s values on top', () => {
  const spec = createSpec({ limits: { memory: '256m', pids: '64' } }, loaded);
  assert.equal(spec.limits?.memoryBytes, 256 * 1024 * 1024);
  assert.equal(spec.limits?.pids, 64);
  assert.equal(
    code(() => createSpec({ limits: { memory: 'lots' } }, loaded)),
    'AIRLOCK_ERR_USAGE',
  );
});
