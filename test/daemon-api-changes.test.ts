import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../src/config/load-config.js';
import { changeSpec, createSpec } from '../src/daemon/api-policy.js';
import { errorCodeOf as code } from './helpers/error-code.js';

const loaded = parseConfig({ credentials: { OPENAI_API_KEY: 'env:ROOTS_OPENAI_KEY' } });

test('a live change from a caller has the limits of a create: no secret source, config credentials by name', () => {
  for (const cred of ['OPENAI_API_KEY=file:/etc/shadow', 'OPENAI_API_KEY=env:HOME', 'GITHUB_TOKEN']) {
    assert.equal(
      code(() => changeSpec({ credentials: [cred] }, loaded)),
      'AIRLOCK_ERR_FORBIDDEN',
      cred,
    );
  }
  assert.equal(
    code(() => changeSpec({ secrets: { GITHUB_TOKEN: 'a\nb' } }, loaded)),
    'AIRLOCK_ERR_SECRET_SOURCE',
  );
  assert.equal(
    code(() => changeSpec({ mounts: ['/'] }, loaded)),
    'AIRLOCK_ERR_USAGE',
    'no other field',
  );
  assert.deepEqual(
    changeSpec(
      {
        credentials: ['OPENAI_API_KEY'],
        revoke: ['GITHUB_TOKEN'],
        budgets: ['usd=1/day'],
        allowEndpoints: [],
      },
      loaded,
    ),
    { credentials: ['OPENAI_API_KEY'], revoke: ['GITHUB_TOKEN'], budgets: ['usd=1/day'], allowEndpoints: [] },
  );
});

test('a caller may ask for budgets and learn mode, but not lift the config’s endpoint rules', () => {
  const spec = createSpec({ budgets: ['tokens=1k'], learn: true }, loaded);
  assert.deepEqual([spec.budgets, spec.learn], [['tokens=1k'], true]);
  const ruled = parseConfig({ endpoints: { openai: ['POST /v1/chat/completions'] } });
  assert.equal(
    code(() => createSpec({ learn: true }, ruled)),
    'AIRLOCK_ERR_FORBIDDEN',
  );
  assert.equal(
    code(() => createSpec({ learn: false }, ruled)),
    'accepted',
  );
});
