import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorStatus } from '../src/errors.js';
import { evaluate, isMethodToken, METHOD_OVERRIDE_HEADERS } from '../src/policy/index.js';
import { policyWith } from './helpers/policy.js';

const call = (policy: ReturnType<typeof policyWith>, method: string, target = '/v1/chat/completions') =>
  evaluate(policy, { kind: 'service', service: 'openai', method, target });

test('with a rule, only the exact method token passes', () => {
  const p = policyWith({
    credentials: ['OPENAI_API_KEY'],
    allowEndpoints: ['openai:POST:/v1/chat/completions'],
  });
  assert.equal(call(p, 'POST').allow, true);
  for (const m of ['post', 'Post', 'GET', 'PUT', 'HEAD', 'OPTIONS', 'PROPFIND', 'TRACE', 'CONNECT']) {
    const d = call(p, m);
    assert.equal(d.allow, false, m);
    if (!d.allow) assert.equal(errorStatus(d.code), 403, m);
  }
  for (const m of ['POST ', ' POST', 'PO ST', 'POST\r\n', '', 'POST\0', 'PÖST', 'POST/1']) {
    const d = call(p, m);
    assert.equal(d.allow, false, JSON.stringify(m));
    if (!d.allow) assert.equal(d.code, 'AIRLOCK_ERR_BAD_REQUEST', JSON.stringify(m));
  }
});

test('with no rules, standard methods pass and lowercase or unknown ones need a rule naming them', () => {
  const open = policyWith({ credentials: ['OPENAI_API_KEY'] });
  for (const m of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])
    assert.equal(call(open, m).allow, true, m);
  for (const m of ['get', 'post', 'PROPFIND', 'TRACE', 'CONNECT', 'FOO'])
    assert.equal(call(open, m).allow, false, m);
  const named = policyWith({
    credentials: ['OPENAI_API_KEY'],
    allowEndpoints: ['openai:PROPFIND:/dav/**', 'openai:get:/lower'],
  });
  assert.equal(call(named, 'PROPFIND', '/dav/a').allow, true);
  assert.equal(call(named, 'get', '/lower').allow, true);
  assert.equal(call(named, 'GET', '/lower').allow, false);
  const star = policyWith({ credentials: ['OPENAI_API_KEY'], allowEndpoints: ['openai:*:/v1/**'] });
  assert.equal(call(star, 'DELETE', '/v1/files/x').allow, true);
  assert.equal(call(star, 'PROPFIND', '/v1/files/x').allow, false);
});

test('OPTIONS * is not an origin-form target', () => {
  const p = policyWith({ credentials: ['OPENAI_API_KEY'] });
  const d = call(p, 'OPTIONS', '*');
  assert.equal(d.allow, false);
  if (!d.allow) assert.equal(errorStatus(d.code), 400);
});

test('method-override headers are exposed for the proxy to strip', () => {
  assert.deepEqual([...METHOD_OVERRIDE_HEADERS].sort(), [
    'x-http-method',
    'x-http-method-override',
    'x-method-override',
  ]);
  for (const h of METHOD_OVERRIDE_HEADERS) assert.equal(h, h.toLowerCase());
  assert.equal(isMethodToken('M-SEARCH'), true);
  assert.equal(isMethodToken('GET('), false);
});
