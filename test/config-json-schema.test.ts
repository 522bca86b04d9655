import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderConfigJsonSchema } from '../src/config/json-schema.js';

test('docs/config.schema.json is up to date with the zod schema', () => {
  const committed = readFileSync(new URL('../docs/config.schema.json', import.meta.url), 'utf8');
  assert.equal(committed, renderConfigJsonSchema(), 'run: npx tsx scripts/config-schema.ts');
});

test('every field in the JSON Schema has a description', () => {
  const schema = JSON.parse(renderConfigJsonSchema()) as unknown;
  const missing: string[] = [];
  const walk = (node: unknown, path: string) => {
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    const props = n.properties as Record<string, Record<string, unknown>> | undefined;
    for (const [key, child] of Object.entries(props ?? {})) {
      if (typeof child.description !== 'string') missing.push(`${path}.${key}`);
      walk(child, `${path}.${key}`);
    }
    for (const k of ['items', 'additionalProperties']) walk(n[k], `${path}[]`);
    for (const k of ['anyOf', 'oneOf', 'allOf'])
      (n[k] as unknown[] | undefined)?.forEach((c) => walk(c, path));
  };
  walk(schema, '');
  assert.deepEqual(missing, []);
});
