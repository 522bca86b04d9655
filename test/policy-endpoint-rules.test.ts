import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AirlockError } from '../src/errors.js';
import { normalizeTarget, parseEndpointFlag, parseEndpointRule, ruleMatches } from '../src/policy/index.js';
import { policyWith } from './helpers/policy.js';

const matches = (rule: string, method: string, target: string) => {
  const r = parseEndpointRule(rule, 'test');
  const t = normalizeTarget(target);
  assert.ok(r.ok && t.ok, `${rule} / ${target}`);
  return ruleMatches(r.rule, method, t.segments);
};

test('glob semantics: * is one segment, ** any depth, trailing slash and case significant', () => {
  assert.equal(matches('GET /v1/models/*', 'GET', '/v1/models/gpt-4o'), true);
  assert.equal(matches('GET /v1/models/*', 'GET', '/v1/models'), false);
  assert.equal(matches('GET /v1/models/*', 'GET', '/v1/models/'), false);
  assert.equal(matches('GET /v1/models/*', 'GET', '/v1/models/a/b'), false);
  assert.equal(matches('GET /v1/files/**', 'GET', '/v1/files'), true);
  assert.equal(matches('GET /v1/files/**', 'GET', '/v1/files/'), true);
  assert.equal(matches('GET /v1/files/**', 'GET', '/v1/files/a/b/c'), true);
  assert.equal(matches('GET /v1/files/**', 'GET', '/v1/filesx'), false);
  assert.equal(matches('GET /v1/**/content', 'GET', '/v1/a/b/content'), true);
  assert.equal(matches('GET /v1/**/content', 'GET', '/v1/content'), true);
  assert.equal(matches('GET /v1/**/content', 'GET', '/v1/a/content/x'), false);
  assert.equal(matches('POST /v1/chat/completions', 'POST', '/v1/chat/completions/'), false);
  assert.equal(matches('POST /v1/chat/completions/', 'POST', '/v1/chat/completions/'), true);
  assert.equal(matches('POST /v1/chat/completions', 'POST', '/V1/chat/completions'), false);
  assert.equal(matches('POST /v1beta/models/*', 'POST', '/v1beta/models/gemini-pro:generateContent'), true);
  assert.equal(matches('GET /v1/models/*', 'GET', '/v1/models/a%20b'), true);
});

test('rule syntax errors are clear', () => {
  for (const [text, why] of [
    ['POST', /METHOD \/path/],
    ['POST v1/chat', /must start with/],
    ['POST /v1//chat', /empty segment/],
    ['POST /v1/../chat', /dot segment/],
    ['POST /v1/gpt-*', /whole segment/],
    ['POST /v1/a%2Fb', /may hold only/],
    ['POST /v1/a;b', /may hold only/],
    ['P(ST /v1', /method token/],
  ] as const) {
    const r = parseEndpointRule(text, 'x');
    assert.equal(r.ok, false, text);
    if (!r.ok) assert.match(r.reason, why, text);
  }
});

test('the flag form service:METHOD:/path parses and validates', () => {
  const r = parseEndpointFlag('openai:POST:/v1/chat/completions');
  assert.ok(r.ok);
  assert.equal(r.service, 'openai');
  assert.equal(r.rule.text, 'POST /v1/chat/completions');
  assert.equal(r.rule.source, '--allow-endpoint');
  const colon = parseEndpointFlag('google:POST:/v1beta/models/*');
  assert.ok(colon.ok);
  for (const bad of [
    'openai',
    'openai:POST',
    'openai:POST:v1',
    'OpenAI:POST:/v1',
    ':POST:/v1',
    'openai::/v1',
  ]) {
    const b = parseEndpointFlag(bad);
    assert.equal(b.ok, false, bad);
    if (!b.ok) assert.match(b.reason, /--allow-endpoint/, bad);
  }
  assert.throws(
    () => policyWith({ credentials: ['OPENAI_API_KEY'], allowEndpoints: ['nosuch:GET:/x'] }),
    (e: unknown) =>
      e instanceof AirlockError &&
      e.code === 'AIRLOCK_ERR_CONFIG' &&
      e.message.includes('unknown service "nosuch"'),
  );
});

test('rules from config, profiles and flags are one union per service; other services stay open', () => {
  const p = policyWith({
    profiles: ['llm-only', 'tight'],
    customProfiles: { tight: { endpoints: { openai: ['GET /v1/models'] } } },
    credentials: ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY'],
    endpoints: { openai: ['GET /v1/models/*'] },
    allowEndpoints: ['openai:POST:/v1/chat/completions'],
  });
  const rules = p.services.get('openai')!.rules.map((r) => `${r.text} (${r.source})`);
  assert.deepEqual(rules.sort(), [
    'GET /v1/models (profile "tight")',
    'GET /v1/models/* (config endpoints.openai)',
    'POST /v1/chat/completions (--allow-endpoint)',
  ]);
  assert.deepEqual(p.services.get('anthropic')!.rules, []);
});
