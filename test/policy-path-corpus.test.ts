import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorStatus } from '../src/errors.js';
import { evaluate, normalizeTarget, splitProxyTarget } from '../src/policy/index.js';
import { policyWith } from './helpers/policy.js';

const policy = policyWith({
  credentials: ['OPENAI_API_KEY'],
  allowEndpoints: ['openai:POST:/v1/chat/completions'],
});
const decide = (target: string, method = 'POST') =>
  evaluate(policy, { kind: 'service', service: 'openai', method, target });

test('the rule lets exactly POST /v1/chat/completions through, forwarding what it checked', () => {
  const ok = decide('/v1/chat/completions');
  assert.deepEqual(ok, { allow: true, target: '/v1/chat/completions', rule: 'POST /v1/chat/completions' });
  const q = decide('/v1/chat/completions?stream=true&x=%20y');
  assert.equal(q.allow && q.target, '/v1/chat/completions?stream=true&x=%20y');
  // percent-encoded unreserved characters are decoded to the one canonical form
  const enc = decide('/v1/chat/%63ompletions');
  assert.equal(enc.allow && enc.target, '/v1/chat/completions');
});

// [target, expected status]: 400 = malformed (never forwarded), 403 = well-formed but not allowed
const CORPUS: [string, 400 | 403][] = [
  ['/v1/chat/completions/../../files', 400],
  ['/v1/files/../chat/completions', 400],
  ['/v1/./chat/completions', 400],
  ['/v1/chat/completions/.', 400],
  ['/v1/%2e%2e/files', 400],
  ['/v1/%2E%2E/files', 400],
  ['/v1/chat/.%2e/files', 400],
  ['/v1/chat/%2e./files', 400],
  ['/v1/chat/%2e/completions', 400],
  ['/v1/%252e%252e/files', 400],
  ['/v1/chat/completions%252f..%252ffiles', 400],
  ['/v1/chat%2Fcompletions', 400],
  ['/v1/chat%2fcompletions', 400],
  ['/v1/chat%5Ccompletions', 400],
  ['/v1/chat%5ccompletions', 400],
  ['/v1\\chat\\completions', 400],
  ['/v1/chat/completions\\..\\files', 400],
  ['//v1/files', 400],
  ['/v1//chat/completions', 400],
  ['/v1/chat/completions;x=y', 400],
  ['/v1;x=y/chat/completions', 400],
  ['/v1/chat/completions%00', 400],
  ['/v1/chat/completions%00/../files', 400],
  ['/v1/chat/completions%0d%0aX-Injected:%201', 400],
  ['/v1/chat/completions#frag', 400],
  ['/v1/files#/v1/chat/completions', 400],
  ['/v1/%c0%ae%c0%ae/files', 400],
  ['/v1/%e0%80%ae%e0%80%ae/files', 400],
  ['/v1/%c0%af', 400],
  ['/v1/%ef%bc%8e%ef%bc%8e/files', 400],
  ['/v1/chat%ef%bc%8fcompletions', 400],
  ['/v1/chat/completions%', 400],
  ['/v1/chat/completions%zz', 400],
  ['/v1/chat/completions?x=%zz', 400],
  ['/v1/chat/completions?x=a b', 400],
  ['/v1/chat/completions?x=\r\nHost: evil', 400],
  ['/v1/chat/completions\t', 400],
  ['/v1/chat/compl\u00e9tions', 400],
  ['http://api.openai.com/v1/files', 400],
  ['*', 400],
  ['api.openai.com:443', 400],
  ['/v1/chat/completions/', 403],
  ['/V1/chat/completions', 403],
  ['/v1/Chat/Completions', 403],
  ['/v1/chat/completions/x', 403],
  ['/v1/chat', 403],
  ['/v1/files', 403],
  ['/v1/files?/v1/chat/completions', 403],
  ['/v1/files?x=/../chat/completions', 403],
  ['/v1/chat/completions%3Fx', 403],
  ['/v1/chat/completions%20', 403],
  ['/v1/chat/completions...', 403],
  ['', 403],
  ['?x=/v1/chat/completions', 403],
];

test('path corpus: no trick reaches another endpoint', () => {
  for (const [target, status] of CORPUS) {
    const d = decide(target);
    assert.equal(d.allow, false, `${JSON.stringify(target)} was allowed`);
    if (!d.allow) {
      assert.equal(errorStatus(d.code), status, `${JSON.stringify(target)}: ${d.message}`);
      assert.equal(d.code, status === 400 ? 'AIRLOCK_ERR_BAD_REQUEST' : 'AIRLOCK_ERR_POLICY_DENIED', target);
      assert.match(d.message, /service "openai"/, target);
    }
  }
});

test('a denial names the service and the rule set that refused it', () => {
  const d = decide('/v1/models', 'GET');
  assert.equal(d.allow, false);
  if (!d.allow) {
    assert.equal(d.code, 'AIRLOCK_ERR_POLICY_DENIED');
    assert.match(d.message, /GET \/v1\/models refused for service "openai"/);
    assert.match(d.message, /--allow-endpoint/);
    assert.match(d.message, /POST \/v1\/chat\/completions/);
  }
});

test('normalization: canonical escapes, trailing slash and query kept', () => {
  const r = normalizeTarget('/a/%7e%41b/%c3%a9/?q=%2F..');
  assert.ok(r.ok);
  assert.equal(r.path, '/a/~Ab/%C3%A9/');
  assert.equal(r.query, 'q=%2F..');
  assert.deepEqual(r.segments, ['a', '~Ab', '\u00e9', '']);
  assert.deepEqual(normalizeTarget(''), { ok: true, path: '/', target: '/', segments: [''] });
  // encoded sub-delimiters stay encoded: they are not equivalent to the raw character
  const s = normalizeTarget('/x%21y!');
  assert.ok(s.ok);
  assert.equal(s.path, '/x%21y!');
});

test('splitProxyTarget takes the service name and leaves the rest untouched', () => {
  assert.deepEqual(splitProxyTarget('/proxy/openai/v1/models?x=1'), {
    ok: true,
    service: 'openai',
    rest: '/v1/models?x=1',
  });
  assert.deepEqual(splitProxyTarget('/proxy/openai'), { ok: true, service: 'openai', rest: '' });
  assert.deepEqual(splitProxyTarget('/proxy/openai?x'), { ok: true, service: 'openai', rest: '?x' });
  for (const bad of [
    'http://x/proxy/openai/',
    '*',
    '/proxy/',
    '/proxy/OpenAI/x',
    '/proxy/op%65nai/x',
    '/proxy/../x',
    '/other/openai',
  ]) {
    assert.equal(splitProxyTarget(bad).ok, false, bad);
  }
});
