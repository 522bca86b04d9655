import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCredFlag, resolveSecretSource } from '../src/config/index.js';
import { AirlockError } from '../src/errors.js';
import { tempDir } from './helpers/temp-dir.js';

const SECRET = 'sk-canary-7f3e9a1b2c';

const refused = (fn: () => unknown, ...mustInclude: string[]) =>
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof AirlockError);
    assert.equal(e.code, 'AIRLOCK_ERR_SECRET_SOURCE');
    const text = `${e.message}\n${e.hint ?? ''}`;
    assert.ok(!text.includes(SECRET), `secret leaked: ${text}`);
    for (const part of mustInclude) assert.ok(text.includes(part), `${part} missing: ${text}`);
    return true;
  });

test('--cred NAME, NAME=env:OTHER and NAME=file:PATH', (t) => {
  assert.deepEqual(parseCredFlag('OPENAI_API_KEY'), {
    name: 'OPENAI_API_KEY',
    source: { kind: 'env', variable: 'OPENAI_API_KEY' },
  });
  assert.deepEqual(parseCredFlag('OPENAI_API_KEY=env:WORK_KEY'), {
    name: 'OPENAI_API_KEY',
    source: { kind: 'env', variable: 'WORK_KEY' },
  });
  assert.deepEqual(parseCredFlag('GH_TOKEN=file:./tok'), {
    name: 'GH_TOKEN',
    source: { kind: 'file', path: './tok' },
  });
  const env = { OPENAI_API_KEY: SECRET, WORK_KEY: `${SECRET}-work` };
  assert.equal(
    resolveSecretSource('OPENAI_API_KEY', parseCredFlag('OPENAI_API_KEY').source, env).value,
    SECRET,
  );
  const r = resolveSecretSource('OPENAI_API_KEY', 'env:WORK_KEY', env);
  assert.deepEqual(r, { name: 'OPENAI_API_KEY', origin: 'env:WORK_KEY', value: `${SECRET}-work` });
  const tmp = tempDir(t);
  const file = tmp.write('tok', `${SECRET}\n`);
  assert.equal(resolveSecretSource('GH_TOKEN', `file:${file}`, {}).value, SECRET);
});

test('a literal secret is refused without echoing it, mentioning ps', () => {
  refused(() => parseCredFlag(`OPENAI_API_KEY=${SECRET}`), 'OPENAI_API_KEY', 'ps');
  refused(() => parseCredFlag(`OPENAI_API_KEY=envx:${SECRET}`), 'literal');
  refused(() => parseCredFlag(`bad name=${SECRET}`), 'not a variable name');
  refused(() => parseCredFlag('OPENAI_API_KEY=env:'), 'does not name a variable');
  refused(() => parseCredFlag('OPENAI_API_KEY=file:'), 'needs a path');
});

test('source errors name the variable or file, never the value', (t) => {
  refused(() => resolveSecretSource('OPENAI_API_KEY', 'env:MISSING', {}), 'MISSING', 'not set');
  refused(() => resolveSecretSource('OPENAI_API_KEY', 'env:EMPTY', { EMPTY: '' }), 'env:EMPTY', 'empty');
  refused(
    () => resolveSecretSource('OPENAI_API_KEY', 'env:X', { X: `${SECRET}\r\nX-Evil: 1` }),
    'control character',
  );
  const tmp = tempDir(t);
  refused(() => resolveSecretSource('GH_TOKEN', `file:${tmp.dir}/nope`, {}), `${tmp.dir}/nope`, 'ENOENT');
  const two = tmp.write('two-lines', `${SECRET}\nsecond\n`);
  refused(() => resolveSecretSource('GH_TOKEN', `file:${two}`, {}), two, 'line break');
  refused(() => resolveSecretSource('GH_TOKEN', `file:${tmp.write('empty', '\n')}`, {}), 'empty');
  refused(() => resolveSecretSource('GH_TOKEN', SECRET, {}), 'literal');
});

test('an env: source that is not set suggests the closest variable that is, by name only', () => {
  const canary = 'sk-did-you-mean-canary-51c2';
  const env = { MY_OPENAI_KEY: canary, PATH: '/usr/bin' };
  assert.throws(
    () => resolveSecretSource('OPENAI_API_KEY', { kind: 'env', variable: 'my_openai_key' }, env),
    (e: unknown) =>
      e instanceof AirlockError &&
      e.code === 'AIRLOCK_ERR_SECRET_SOURCE' &&
      e.hint?.startsWith('did you mean MY_OPENAI_KEY? export my_openai_key') === true &&
      !`${e.message}${e.hint}`.includes(canary),
  );
});
