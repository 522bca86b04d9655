import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createCatalogue, upstreamHost } from '../src/catalogue/catalogue.js';
import type { Service } from '../src/catalogue/service.js';
import { AirlockError } from '../src/errors.js';

const custom = (over: Partial<Service>): Service => ({
  name: 'corp',
  title: 'Corp',
  envVar: 'CORP_TOKEN',
  aliases: [],
  upstream: 'https://api.corp.test/v2',
  hosts: ['api.corp.test'],
  carrier: { kind: 'basic', username: 'bot' },
  credentialHeaders: ['authorization'],
  credentialParams: [],
  baseUrlVariables: [{ name: 'CORP_URL' }],
  placeholderPrefix: '',
  placeholderLength: 32,
  llm: false,
  ...over,
});

test('lookups by name, variable, alias and host', () => {
  const c = createCatalogue([custom({})]);
  assert.equal(c.byName('openai')?.envVar, 'OPENAI_API_KEY');
  assert.equal(c.byEnvVar('GEMINI_API_KEY')?.name, 'google');
  assert.equal(c.byEnvVar('GH_TOKEN')?.name, 'github');
  assert.equal(c.byEnvVar('gh_token'), undefined);
  assert.equal(c.byHost('api-inference.huggingface.co')?.name, 'huggingface');
  assert.equal(c.byName('corp')?.upstream, 'https://api.corp.test/v2');
  assert.equal(upstreamHost(c.byName('corp')!), 'api.corp.test');
  assert.equal(c.services.at(-1)?.name, 'corp');
});

test('a custom service may not take a built-in name, variable or host', () => {
  for (const over of [
    { name: 'openai' },
    { envVar: 'OPENAI_API_KEY' },
    { aliases: ['GH_TOKEN'] },
    { hosts: ['api.openai.com'] },
  ]) {
    assert.throws(
      () => createCatalogue([custom(over)]),
      (e: unknown) =>
        e instanceof AirlockError &&
        e.code === 'AIRLOCK_ERR_CONFIG' &&
        e.message.includes('already belongs to'),
      JSON.stringify(over),
    );
  }
});
