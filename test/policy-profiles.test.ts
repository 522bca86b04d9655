import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createCatalogue } from '../src/catalogue/catalogue.js';
import type { Service } from '../src/catalogue/service.js';
import { AirlockError } from '../src/errors.js';
import { createSandboxPolicy, evaluate, GITHUB_HOSTS } from '../src/policy/index.js';
import { denial, forwardAllowed, policyWith } from './helpers/policy.js';

const isCode =
  (code: string, ...parts: string[]) =>
  (e: unknown) =>
    e instanceof AirlockError && e.code === code && parts.every((p) => e.message.includes(p));

test('deny-all: no host and no proxy route, and a credential is a startup error', () => {
  const p = policyWith({ profiles: ['deny-all'] });
  for (const h of ['api.openai.com', 'github.com', 'example.com', '203.0.113.7'])
    assert.equal(forwardAllowed(p, h), false, h);
  const d = denial(
    evaluate(p, { kind: 'service', service: 'openai', method: 'POST', target: '/v1/chat/completions' }),
  );
  assert.equal(d.code, 'AIRLOCK_ERR_POLICY_DENIED');
  assert.throws(
    () => policyWith({ profiles: ['deny-all'], credentials: ['OPENAI_API_KEY'] }),
    isCode('AIRLOCK_ERR_CREDENTIAL_NOT_ALLOWED', 'OPENAI_API_KEY', 'api.openai.com', '"deny-all"'),
  );
  assert.throws(
    () => policyWith({ profiles: ['deny-all', 'github'] }),
    isCode('AIRLOCK_ERR_PROFILE', 'deny-all', 'github'),
  );
});

test('llm-only: the catalogue LLM hosts with a credential of the sandbox, not GitHub or anything else', () => {
  const llmHosts = [
    'api.openai.com',
    'api.anthropic.com',
    'generativelanguage.googleapis.com',
    'api.groq.com',
    'router.huggingface.co',
  ];
  // no opaque tunnel to an LLM host with a key the guest brought
  const bare = policyWith({ profiles: ['llm-only'] });
  for (const h of llmHosts) assert.equal(forwardAllowed(bare, h), false, h);
  const p = policyWith({
    profiles: ['llm-only'],
    credentials: ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'GEMINI_API_KEY', 'GROQ_API_KEY', 'HF_TOKEN'],
  });
  for (const h of llmHosts) {
    const d = evaluate(p, { kind: 'forward', method: 'CONNECT', target: `${h}:443` });
    assert.ok(d.allow && d.service !== undefined, `${h}: intercepted for its credential`);
  }
  // a profile that lists an LLM host lets a tunnel reach it without a credential
  const listed = policyWith({
    profiles: ['llm-only', 'mine'],
    customProfiles: { mine: { hosts: ['api.mistral.ai'] } },
  });
  assert.equal(forwardAllowed(listed, 'api.mistral.ai'), true);
  assert.equal(forwardAllowed(listed, 'api.groq.com'), false);
  for (const h of ['api.github.com', 'github.com', 'example.com', 'openai.com', 'evil.api.openai.com'])
    assert.equal(forwardAllowed(p, h), false, h);
  // custom services with llm: true join llm-only
  const local: Service = {
    name: 'local-llm',
    title: 'Local',
    envVar: 'LOCAL_LLM_KEY',
    aliases: [],
    upstream: 'https://llm.corp.test',
    hosts: ['llm.corp.test'],
    carrier: { kind: 'header', header: 'authorization', template: 'Bearer {secret}' },
    credentialHeaders: ['authorization'],
    credentialParams: [],
    baseUrlVariables: [],
    placeholderPrefix: '',
    placeholderLength: 32,
    llm: true,
  };
  const withCustom = createSandboxPolicy({
    catalogue: createCatalogue([local]),
    profiles: ['llm-only'],
    credentials: ['LOCAL_LLM_KEY'],
  });
  assert.equal(forwardAllowed(withCustom, 'llm.corp.test'), true);
});

test('github: the hosts git clone, gh and downloads use; not other hosts', () => {
  const p = policyWith({ profiles: ['github'] });
  for (const h of [
    'github.com',
    'api.github.com',
    'codeload.github.com',
    'raw.githubusercontent.com',
    'objects.githubusercontent.com',
    'release-assets.githubusercontent.com',
    'uploads.github.com',
  ]) {
    assert.ok(GITHUB_HOSTS.includes(h), h);
    assert.equal(forwardAllowed(p, h), true, h);
  }
  for (const h of ['gist.github.io', 'evil.githubusercontent.com', 'github.com.evil.test', 'api.openai.com'])
    assert.equal(forwardAllowed(p, h), false, h);
});

test('open: any host, with a warning (the egress guard still refuses internal addresses: policy-ssrf)', () => {
  const p = policyWith({ profiles: ['open'] });
  assert.equal(p.open, true);
  assert.match(p.warnings.join('\n'), /any public host/);
  for (const h of ['example.com', 'pypi.org', '203.0.113.9']) assert.equal(forwardAllowed(p, h), true, h);
  assert.equal(forwardAllowed(p, 'example.com', 22), false, 'only the web ports');
  assert.deepEqual(policyWith({ profiles: ['github'] }).warnings, []);
});

test('no profile: exactly the services of the granted credentials', () => {
  const p = policyWith({ credentials: ['OPENAI_API_KEY'] });
  assert.equal(
    evaluate(p, { kind: 'service', service: 'openai', method: 'GET', target: '/v1/models' }).allow,
    true,
  );
  const other = denial(
    evaluate(p, { kind: 'service', service: 'anthropic', method: 'POST', target: '/v1/messages' }),
  );
  assert.equal(other.code, 'AIRLOCK_ERR_POLICY_DENIED');
  assert.match(other.message, /anthropic.*no credential/);
  assert.equal(forwardAllowed(p, 'example.com'), false);
  assert.equal(forwardAllowed(p, 'api.anthropic.com'), false);
  // the credential host is reached through an intercepted CONNECT on 443, or the base URL
  const intercepted = evaluate(p, { kind: 'forward', method: 'CONNECT', target: 'api.openai.com:443' });
  assert.ok(intercepted.allow && intercepted.service === 'openai');
  const d = denial(evaluate(p, { kind: 'forward', method: 'CONNECT', target: 'api.openai.com:80' }));
  assert.equal(d.code, 'AIRLOCK_ERR_USE_BASE_URL');
  assert.match(d.message, /OPENAI_BASE_URL/);
  assert.equal(
    denial(evaluate(p, { kind: 'service', service: 'nope', method: 'GET', target: '/' })).code,
    'AIRLOCK_ERR_UNKNOWN_SERVICE',
  );
  assert.equal(forwardAllowed(policyWith(), 'api.openai.com'), false);
});

test('profiles compose as a union; aliases grant the same service', () => {
  const p = policyWith({ profiles: ['llm-only', 'github'], credentials: ['OPENAI_API_KEY', 'GH_TOKEN'] });
  assert.equal(forwardAllowed(p, 'api.openai.com'), true);
  assert.equal(forwardAllowed(p, 'api.anthropic.com'), false, 'an LLM host without a credential');
  assert.equal(forwardAllowed(p, 'codeload.github.com'), true);
  assert.equal(forwardAllowed(p, 'example.com'), false);
  // github-git comes with the GitHub credential: the github profile allows github.com
  assert.deepEqual([...p.services.keys()].sort(), ['github', 'github-git', 'openai']);
  assert.throws(
    () => policyWith({ profiles: ['github'], credentials: ['OPENAI_API_KEY'] }),
    isCode('AIRLOCK_ERR_CREDENTIAL_NOT_ALLOWED', 'OPENAI_API_KEY', 'api.openai.com', 'profile "github"'),
  );
  assert.throws(
    () => policyWith({ credentials: ['NOT_A_KEY'] }),
    isCode('AIRLOCK_ERR_CREDENTIAL_UNKNOWN', 'NOT_A_KEY'),
  );
  assert.throws(() => policyWith({ profiles: ['nope'] }), isCode('AIRLOCK_ERR_PROFILE', '"nope"'));
});

test('custom profiles: extends, exact and wildcard hosts, endpoint rules', () => {
  const customProfiles = {
    corp: { extends: ['github'], hosts: ['*.corp.example.com', 'pypi.org', 'files.pythonhosted.org.'] },
    strict: { extends: ['corp'], hosts: [], endpoints: { openai: ['POST /v1/chat/completions'] } },
  };
  const p = policyWith({ profiles: ['strict', 'llm-only'], customProfiles, credentials: ['OPENAI_API_KEY'] });
  for (const h of [
    'a.corp.example.com',
    'x.y.corp.example.com',
    'PyPI.org',
    'files.pythonhosted.org',
    'github.com',
  ])
    assert.equal(forwardAllowed(p, h), true, h);
  for (const h of ['corp.example.com', 'example.com', 'acorp.example.com'])
    assert.equal(forwardAllowed(p, h), false, h);
  assert.equal(
    evaluate(p, { kind: 'service', service: 'openai', method: 'POST', target: '/v1/chat/completions' }).allow,
    true,
  );
  const d = denial(evaluate(p, { kind: 'service', service: 'openai', method: 'GET', target: '/v1/models' }));
  assert.match(d.message, /openai/);
  assert.match(d.message, /profile "strict"/);
});

test('bad custom profiles are refused with the offending config path', () => {
  const cases: [Record<string, object>, string][] = [
    [{ dev: { hosts: ['ok.example.com', '*'] } }, 'profiles.dev.hosts[1]'],
    [{ dev: { hosts: ['*.com'] } }, 'profiles.dev.hosts[0]'],
    [{ dev: { hosts: ['*.co.uk'] } }, 'profiles.dev.hosts[0]'],
    [{ dev: { hosts: ['**'] } }, 'profiles.dev.hosts[0]'],
    [{ dev: { hosts: ['*.*'] } }, 'profiles.dev.hosts[0]'],
    [{ dev: { hosts: ['*.github.io'] } }, 'profiles.dev.hosts[0]'],
    [{ dev: { hosts: ['api.*.com'] } }, 'profiles.dev.hosts[0]'],
    [{ dev: { hosts: ['user@example.com'] } }, 'profiles.dev.hosts[0]'],
    [{ dev: { extends: ['missing'] } }, 'profiles.dev.extends[0]'],
    [{ a: { extends: ['b'] }, b: { extends: ['a'] } }, 'profiles.a.extends'],
    [{ dev: { endpoints: { openai: ['FETCH'] } } }, 'profiles.dev.endpoints.openai[0]'],
    [{ dev: { endpoints: { nosuch: ['GET /'] } } }, 'profiles.dev.endpoints.nosuch'],
    [{ github: { hosts: ['x.example.com'] } }, 'profiles.github'],
  ];
  for (const [customProfiles, path] of cases) {
    assert.throws(
      () => policyWith({ customProfiles }),
      (e: unknown) =>
        e instanceof AirlockError && e.code === 'AIRLOCK_ERR_CONFIG' && e.message.includes(`${path}:`),
      path,
    );
  }
});

test('two credentials for one service (a variable and its alias) are refused, naming both', () => {
  assert.throws(
    () => policyWith({ credentials: ['GOOGLE_API_KEY', 'GEMINI_API_KEY'] }),
    isCode('AIRLOCK_ERR_CONFIG', 'GOOGLE_API_KEY', 'GEMINI_API_KEY', '"google"'),
  );
  // control: either alone is fine
  assert.ok(policyWith({ credentials: ['GEMINI_API_KEY'] }).services.has('google'));
});
