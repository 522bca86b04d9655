import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  evaluate,
  normalizeTarget,
  parseEndpointFlag,
  parseEndpointRule,
  ruleMatches,
} from '../src/policy/index.js';
import { denial, policyWith } from './helpers/policy.js';

const FETCH = 'GET /*/*/info/refs?service=git-upload-pack';

const matches = (rule: string, method: string, target: string) => {
  const r = parseEndpointRule(rule, 'test');
  const t = normalizeTarget(target);
  assert.ok(r.ok && t.ok, `${rule} / ${target}`);
  return ruleMatches(r.rule, method, t.segments, t.query);
};

test('a rule with ?name=value needs that parameter exactly once, with exactly that value', () => {
  assert.equal(matches(FETCH, 'GET', '/acme/widgets.git/info/refs?service=git-upload-pack'), true);
  assert.equal(matches(FETCH, 'GET', '/acme/widgets/info/refs?service=git-upload-pack'), true);
  assert.equal(matches(FETCH, 'GET', '/acme/widgets.git/info/refs?x=1&service=git-upload-pack'), true);
  assert.equal(matches(FETCH, 'GET', '/acme/widgets.git/info/refs?service=git-%75pload-pack'), true);
  assert.equal(matches(FETCH, 'GET', '/acme/widgets.git/info/refs?service=git-receive-pack'), false);
  assert.equal(matches(FETCH, 'GET', '/acme/widgets.git/info/refs'), false);
  assert.equal(matches(FETCH, 'GET', '/acme/widgets.git/info/refs?'), false);
  assert.equal(matches(FETCH, 'GET', '/acme/widgets.git/info/refs?service='), false);
  assert.equal(matches(FETCH, 'GET', '/acme/widgets.git/info/refs?service=git-upload-pack2'), false);
  // two readings of one request must never be possible: a repeated name matches nothing
  assert.equal(
    matches(FETCH, 'GET', '/a/b/info/refs?service=git-upload-pack&service=git-receive-pack'),
    false,
  );
  assert.equal(
    matches(FETCH, 'GET', '/a/b/info/refs?SERVICE=git-receive-pack&service=git-upload-pack'),
    false,
  );
  assert.equal(
    matches(FETCH, 'GET', '/a/b/info/refs?servic%65=git-receive-pack&service=git-upload-pack'),
    false,
  );
  assert.equal(
    matches(FETCH, 'GET', '/a/b/info/refs?service=git-upload-pack;service=git-receive-pack'),
    false,
  );
  assert.equal(matches(FETCH, 'GET', '/a/b/info/refs?%C3=1&service=git-upload-pack'), false);
  // without a query condition, the query is not looked at (as before)
  assert.equal(matches('GET /*/*/info/refs', 'GET', '/a/b/info/refs?service=git-receive-pack'), true);
  assert.equal(matches(FETCH, 'POST', '/a/b/info/refs?service=git-upload-pack'), false);
});

test('query conditions in rule text: letters, digits and - . _ ~ only, each name once', () => {
  for (const [text, why] of [
    ['GET /a?service', /name=value/],
    ['GET /a?service=', /name=value/],
    ['GET /a?=x', /name=value/],
    ['GET /a?s=a%20b', /name=value/],
    ['GET /a?s=a b', /COUNT\/WINDOW/], // a space starts the rule's rate
    ['GET /a?s=1&S=2', /named twice/],
    ['GET /a/*x?s=1', /whole segment/],
  ] as const) {
    const r = parseEndpointRule(text, 'test');
    assert.equal(r.ok, false, text);
    if (!r.ok) assert.match(r.reason, why, text);
  }
  const r = parseEndpointRule('GET /a?x=1&y=2', 'test');
  assert.ok(r.ok);
  assert.deepEqual(r.rule.query, [
    { name: 'x', value: '1' },
    { name: 'y', value: '2' },
  ]);
  const rated = parseEndpointRule(`${FETCH} 60/1m`, 'test');
  assert.ok(rated.ok, 'a query condition and a rate together');
  assert.deepEqual(rated.rule.query, [{ name: 'service', value: 'git-upload-pack' }]);
  assert.ok(rated.rule.rate);
  const flag = parseEndpointFlag(`github-git:GET:/*/*/info/refs?service=git-upload-pack`);
  assert.ok(flag.ok);
  assert.equal(flag.service, 'github-git');
  assert.equal(flag.rule.text, FETCH);
});

test('fetch-only rules for github-git: clone and fetch pass, push is refused with the query shown', () => {
  const p = policyWith({
    credentials: ['GITHUB_TOKEN'],
    allowEndpoints: [`github-git:${FETCH.replace(' ', ':')}`, 'github-git:POST:/*/*/git-upload-pack'],
  });
  const ask = (method: string, target: string) =>
    evaluate(p, { kind: 'service', service: 'github-git', method, target });
  assert.equal(ask('GET', '/acme/w.git/info/refs?service=git-upload-pack').allow, true);
  assert.equal(ask('POST', '/acme/w.git/git-upload-pack').allow, true);
  const refs = denial(ask('GET', '/acme/w.git/info/refs?service=git-receive-pack'));
  assert.equal(refs.code, 'AIRLOCK_ERR_POLICY_DENIED');
  assert.match(
    refs.message,
    /GET \/acme\/w\.git\/info\/refs\?service=git-receive-pack refused for service "github-git"/,
  );
  assert.equal(denial(ask('POST', '/acme/w.git/git-receive-pack')).code, 'AIRLOCK_ERR_POLICY_DENIED');
  // the API keeps its own (here: no) rules
  assert.equal(
    evaluate(p, { kind: 'service', service: 'github', method: 'POST', target: '/repos/a/b/issues' }).allow,
    true,
  );
});
