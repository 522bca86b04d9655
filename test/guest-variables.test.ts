import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BUILTIN_SERVICES } from '../src/catalogue/builtin.js';
import { guestVariables, makePlaceholder } from '../src/proxy/index.js';
import { builtin, makeCredentials, SEED_SERVICES } from './helpers/proxy-bench.js';

test('the guest gets placeholders under every name and base URLs the SDKs read', () => {
  const services = SEED_SERVICES.map(builtin);
  const credentials = makeCredentials(services);
  const env = guestVariables(services, credentials, 'http://10.209.0.1:9090/');
  const p = (name: string) => credentials[name]!.placeholder;
  assert.deepEqual(env, {
    OPENAI_API_KEY: p('openai'),
    OPENAI_BASE_URL: 'http://10.209.0.1:9090/proxy/openai/v1', // the openai SDK appends /models etc. to a /v1 base
    ANTHROPIC_API_KEY: p('anthropic'),
    ANTHROPIC_BASE_URL: 'http://10.209.0.1:9090/proxy/anthropic', // the anthropic SDK appends /v1/messages
    GOOGLE_API_KEY: p('google'),
    GEMINI_API_KEY: p('google'),
    GOOGLE_GEMINI_BASE_URL: 'http://10.209.0.1:9090/proxy/google', // @google/genai appends /v1beta/…
    GITHUB_TOKEN: p('github'),
    GH_TOKEN: p('github'),
    GITHUB_API_URL: 'http://10.209.0.1:9090/proxy/github',
    HUGGINGFACE_TOKEN: p('huggingface'),
    HF_TOKEN: p('huggingface'),
    HF_INFERENCE_ENDPOINT: 'http://10.209.0.1:9090/proxy/huggingface',
    GIT_CONFIG_COUNT: '0', // always set: no other count can add git config
  });
  for (const c of Object.values(credentials)) assert.ok(!Object.values(env).includes(c.secret));
});

test('a service without a granted credential gets its base URL but no key variable', () => {
  const env = guestVariables([builtin('github')], {}, 'http://10.209.0.1:9090');
  assert.deepEqual(env, { GITHUB_API_URL: 'http://10.209.0.1:9090/proxy/github', GIT_CONFIG_COUNT: '0' });
});

test('placeholders keep the real key prefix SDKs check, and are unique', () => {
  const expected: Record<string, RegExp> = {
    openai: /^sk-airlock-[A-Za-z0-9]{48}$/,
    anthropic: /^sk-ant-airlock-[A-Za-z0-9]{64}$/,
    google: /^AIza[A-Za-z0-9]{35}$/,
    github: /^ghp_[A-Za-z0-9]{36}$/,
    huggingface: /^hf_[A-Za-z0-9]{34}$/,
  };
  for (const [name, shape] of Object.entries(expected)) assert.match(makePlaceholder(builtin(name)), shape);
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) seen.add(makePlaceholder(builtin('github')));
  assert.equal(seen.size, 2000);
  for (const s of BUILTIN_SERVICES) assert.ok(makePlaceholder(s).startsWith(s.placeholderPrefix));
});

test('OpenAI-compatible providers get the base URL their SDK expects', () => {
  const env = guestVariables([builtin('groq'), builtin('together')], {}, 'http://gw:9090');
  assert.equal(env.GROQ_BASE_URL, 'http://gw:9090/proxy/groq', 'the groq SDK appends /openai/v1 itself');
  assert.equal(
    env.TOGETHER_BASE_URL,
    'http://gw:9090/proxy/together/v1',
    'the together SDK default base ends in /v1',
  );
});
