import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { readDoc, REPO } from './helpers/docs.js';

/** The LAYER map that test/dependency-rules.test.ts enforces: room → layer. */
function enforcedLayers(): Map<string, number> {
  const source = readDoc('test/dependency-rules.test.ts');
  const body = /const LAYER: Record<string, number> = \{([\s\S]*?)\};/.exec(source)?.[1] ?? '';
  return new Map(
    [...body.matchAll(/^\s*'?([\w.]+)'?:\s*([\d.]+),/gm)].map((m) => [m[1]!, Number(m[2])] as const),
  );
}

/** The layer table of docs/architecture.md: room (without its trailing /) → layer. */
function documentedLayers(): Map<string, number> {
  const doc = readDoc('docs/architecture.md');
  const rows = [...doc.matchAll(/^\|\s*([\d.]+)\s*\|([^|]+)\|/gm)];
  return new Map(
    rows.flatMap((m) => [...m[2]!.matchAll(/`([\w.]+)\/?`/g)].map((r) => [r[1]!, Number(m[1])] as const)),
  );
}

test('the layer table in docs/architecture.md is the one test/dependency-rules.test.ts enforces', () => {
  const enforced = enforcedLayers();
  assert.ok(enforced.size >= 10, 'control: the LAYER map was read');
  assert.deepEqual(
    [...documentedLayers()].sort(([a], [b]) => a.localeCompare(b)),
    [...enforced].sort(([a], [b]) => a.localeCompare(b)),
  );
});

test('every test docs/architecture.md names in "Where the tests attack" exists', () => {
  const doc = readDoc('docs/architecture.md');
  const section = doc.slice(doc.indexOf('## Where the tests attack'), doc.indexOf('## Carrying it on'));
  const table = section.split('\n').filter((l) => l.startsWith('|'));
  const named = table.flatMap((l) => [...(l.split('|')[2] ?? '').matchAll(/`([a-z][a-z0-9-]*)(\*)?`/g)]);
  assert.ok(named.length > 40, `control: tests named (${named.length})`);
  const files = readdirSync(`${REPO}test`).filter((f) => f.endsWith('.test.ts'));
  const missing = named
    .filter(([, name, glob]) =>
      glob ? !files.some((f) => f.startsWith(name!)) : !files.includes(`${name}.test.ts`),
    )
    .map((m) => m[0]);
  assert.deepEqual(missing, []);
});
