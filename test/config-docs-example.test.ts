import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseConfig } from '../src/config/index.js';

test('the example in docs/config.md is a valid config', () => {
  const doc = readFileSync(new URL('../docs/config.md', import.meta.url), 'utf8');
  const example = /## Example\s+```json\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(example, 'example block not found');
  const { config, catalogue } = parseConfig(JSON.parse(example), 'docs/config.md');
  assert.equal(catalogue.byEnvVar('CORP_TOKEN')?.name, 'corp');
  assert.deepEqual(config.profiles['python-dev']?.extends, ['llm-only']);
});
