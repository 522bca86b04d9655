import assert from 'node:assert/strict';
import { test } from 'node:test';
import { servicesCommand, type ServiceListing } from '../src/cli/services.js';
import { captureIo } from './helpers/capture-io.js';
import { tempDir } from './helpers/temp-dir.js';

const CONFIG = {
  credentials: { OPENAI_API_KEY: 'env:CANARY_SOURCE_VAR' },
  services: [
    {
      name: 'corp',
      envVar: 'CORP_TOKEN',
      aliases: ['CORP_KEY'],
      upstream: 'https://api.corp.example.com/v2',
      carrier: { kind: 'query', param: 'api_key' },
      baseUrlVariables: [{ name: 'CORP_BASE_URL', suffix: '/v2' }],
    },
  ],
};

test('airlock services --json: variables, aliases, hosts, carrier, base-URL variables', async (t) => {
  const config = tempDir(t).write('c.json', JSON.stringify(CONFIG));
  const cap = captureIo({ OPENAI_API_KEY: 'sk-canary-should-never-print' });
  assert.equal(await servicesCommand.run(['--json', '--config', config], cap.io), 0);
  const rows = JSON.parse(cap.stdout()) as ServiceListing[];
  const openai = rows.find((r) => r.name === 'openai')!;
  assert.equal(openai.envVar, 'OPENAI_API_KEY');
  assert.equal(openai.carrier, 'header authorization: Bearer {secret}');
  assert.deepEqual(openai.baseUrlVariables, [{ name: 'OPENAI_BASE_URL', suffix: '/v1' }]);
  assert.deepEqual(rows.find((r) => r.name === 'google')!.aliases, ['GEMINI_API_KEY']);
  const corp = rows.find((r) => r.name === 'corp')!;
  assert.equal(corp.builtin, false);
  assert.deepEqual(corp.aliases, ['CORP_KEY']);
  assert.deepEqual(corp.hosts, ['api.corp.example.com']);
  assert.equal(corp.carrier, 'query ?api_key={secret}');
  assert.deepEqual(corp.gitUrls, []);
  const git = rows.find((r) => r.name === 'github-git')!;
  assert.equal(git.credentialOf, 'github');
  assert.equal(git.carrier, 'HTTP Basic (user x-access-token)');
  assert.deepEqual(git.gitUrls, ['https://github.com/', 'git@github.com:', 'ssh://git@github.com/']);
  assert.ok(!cap.stdout().includes('sk-canary'));
});

test('airlock services prints a table and never a secret or its source', async (t) => {
  const config = tempDir(t).write('c.json', JSON.stringify(CONFIG));
  const cap = captureIo({ OPENAI_API_KEY: 'sk-canary-should-never-print', CANARY_SOURCE_VAR: 'sk-canary-2' });
  assert.equal(await servicesCommand.run(['--config', config], cap.io), 0);
  const text = cap.stdout();
  assert.match(text, /^openai +OpenAI \[llm\]$/m);
  assert.match(text, /credential: GITHUB_TOKEN, GH_TOKEN/);
  assert.match(
    text,
    /credential: GITHUB_TOKEN, GH_TOKEN \(that of github\)\n.*\n.*\n.*\n +git: +https:\/\/github\.com\/, /,
  );
  assert.match(text, /OPENAI_BASE_URL=…\/proxy\/openai\/v1/);
  assert.match(text, /^corp +corp \(config\)$/m);
  assert.ok(!text.includes('sk-canary'));
  assert.ok(!text.includes('CANARY_SOURCE_VAR'));
  assert.equal(cap.stderr(), '');
});
