import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluate, normalizeHost, parseAuthority, parseHostPattern } from '../src/policy/index.js';
import { forwardAllowed, policyWith } from './helpers/policy.js';

// api.openai.com is reached through its credential (an intercepted CONNECT)
const github = policyWith({ profiles: ['github', 'llm-only'], credentials: ['OPENAI_API_KEY'] });

test('host tricks never match an allowed host', () => {
  assert.equal(forwardAllowed(github, 'api.openai.com'), true);
  for (const h of ['api.openai.com.evil.test', 'api.openai.com.', 'API.OpenAI.COM', 'API.OPENAI.COM.']) {
    const d = evaluate(github, { kind: 'forward', method: 'CONNECT', target: `${h}:443` });
    assert.equal(d.allow, !h.includes('evil'), h);
  }
  for (const h of [
    'api.openai.com..',
    'evil.test@api.openai.com',
    'api.openai.com@evil.test',
    'api.openai.com%23.evil.test',
    'api.openai.com#.evil.test',
    'api.openai.com:443',
    'api.openai.com/x',
    'api.openai.com\\.evil.test',
    'api.openai.com\0',
    'аpi.openai.com', // Cyrillic а
    'xn--pi-7ka.openai.com',
    'api-openai.com',
    'openai.com',
  ]) {
    assert.equal(forwardAllowed(github, h), false, h);
  }
});

test('normalizeHost: case, one trailing dot, IP forms, refusals with reasons', () => {
  assert.deepEqual(normalizeHost('GitHub.COM.'), { ok: true, host: 'github.com' });
  const bad = normalizeHost('a@b.com');
  assert.equal(bad.ok, false);
  assert.equal(normalizeHost('xn--80ak6aa92e.com').ok, true);
  const ip = normalizeHost('0x7f.1');
  assert.equal(ip.ok && ip.host, '127.0.0.1');
  assert.equal(normalizeHost('999.1.1.1').ok, false); // ends in a number but not an address
  const mapped = normalizeHost('[::FFFF:a9fe:a9fe]');
  assert.equal(mapped.ok && mapped.host, '::ffff:a9fe:a9fe');
  assert.deepEqual(mapped, normalizeHost('::ffff:169.254.169.254'));
});

test('port mismatch and authority forms', () => {
  assert.deepEqual(parseAuthority('api.openai.com:443'), { ok: true, host: 'api.openai.com', port: 443 });
  assert.deepEqual(parseAuthority('API.openai.com', 80), { ok: true, host: 'api.openai.com', port: 80 });
  assert.equal(parseAuthority('[::1]:443').ok, true);
  for (const bad of [
    'api.openai.com',
    'api.openai.com:',
    'api.openai.com:0443',
    'api.openai.com:65536',
    'u@api.openai.com:443',
    '::1:443',
    '[::1',
    'a.com:44x',
  ]) {
    assert.equal(parseAuthority(bad).ok, false, bad);
  }
  // an allowed host on a port other than 443/80 is refused
  assert.equal(forwardAllowed(github, 'github.com', 22), false);
  assert.equal(forwardAllowed(github, 'github.com', 8443), false);
  assert.equal(forwardAllowed(github, 'github.com', 80), true);
});

test('wildcard patterns: subdomains at any depth, never the apex or a lookalike', () => {
  const r = parseHostPattern('*.Example.com.');
  assert.ok(r.ok);
  assert.deepEqual(r.pattern, { kind: 'subdomains', suffix: 'example.com' });
  const p = policyWith({ profiles: ['dev'], customProfiles: { dev: { hosts: ['*.example.com'] } } });
  assert.equal(forwardAllowed(p, 'a.example.com'), true);
  assert.equal(forwardAllowed(p, 'a.b.example.com'), true);
  assert.equal(forwardAllowed(p, 'example.com'), false);
  assert.equal(forwardAllowed(p, 'badexample.com'), false);
  assert.equal(forwardAllowed(p, 'a.example.com.evil.test'), false);
  for (const bad of [
    '*',
    '**',
    '*.*',
    '*.com',
    '*.co.uk',
    '*.github.io',
    'a.*.com',
    '*a.example.com',
    '*.1.2.3.4',
    '*.',
  ]) {
    assert.equal(parseHostPattern(bad).ok, false, bad);
  }
});
