import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CONFIG_SCHEMA_URL } from '../src/config/json-schema.js';
import { docFiles, readDoc, REPO } from './helpers/docs.js';

const META_SCHEMA = /^https:\/\/json-schema\.org\//;

test('the docs and examples name one $schema URL for a config: the schema file’s $id', () => {
  const schema = JSON.parse(readFileSync(`${REPO}docs/config.schema.json`, 'utf8')) as { $id?: string };
  assert.equal(schema.$id, CONFIG_SCHEMA_URL);
  const examples = readdirSync(`${REPO}examples`).map((f) => `examples/${f}`);
  const seen: string[] = [];
  for (const file of [...docFiles(), 'docs/config.schema.json', ...examples]) {
    const text =
      file.startsWith('docs/') || file === 'README.md'
        ? readDoc(file)
        : readFileSync(`${REPO}${file}`, 'utf8');
    for (const m of text.matchAll(/"\$schema"\s*:\s*"([^"]+)"/g)) {
      if (!META_SCHEMA.test(m[1]!)) seen.push(`${file}: ${m[1]}`);
    }
  }
  assert.ok(seen.length >= 2, `control: config examples found (${seen.length})`);
  assert.deepEqual(
    seen.filter((s) => !s.endsWith(`: ${CONFIG_SCHEMA_URL}`)),
    [],
  );
});
