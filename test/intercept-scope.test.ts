import assert from 'node:assert/strict';
import { test } from 'node:test';
import { interceptFlag } from '../src/cli/flags.js';
import { parseConfig } from '../src/config/load-config.js';
import { createSpec } from '../src/daemon/api-policy.js';
import { AirlockError } from '../src/errors.js';

test('--intercept takes credentials or all, and the config key defaults to credentials', () => {
  assert.equal(interceptFlag(undefined), undefined);
  assert.equal(interceptFlag('all'), 'all');
  assert.equal(interceptFlag('credentials'), 'credentials');
  assert.throws(
    () => interceptFlag('everything'),
    (e) =>
      e instanceof AirlockError && e.code === 'AIRLOCK_ERR_USAGE' && /credentials or all/.test(e.message),
  );
  assert.equal(parseConfig({}).config.intercept, 'credentials');
  assert.equal(parseConfig({ intercept: 'all' }).config.intercept, 'all');
  assert.throws(() => parseConfig({ intercept: 'some' }));
});

test('a daemon caller may ask to inspect more tunnels, never fewer than the config', () => {
  const inspectAll = parseConfig({ intercept: 'all' });
  assert.equal(createSpec({ intercept: 'all' }, parseConfig({})).intercept, 'all');
  assert.equal(createSpec({}, inspectAll).intercept, undefined, 'omitted: the config decides');
  assert.throws(
    () => createSpec({ intercept: 'credentials' }, inspectAll),
    (e) => e instanceof AirlockError && e.code === 'AIRLOCK_ERR_FORBIDDEN',
  );
});
