import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/*
 * The proxy has one exchange path and one error path, and what it decides is decided once:
 * these rules read the source, so a second way to send a request, answer an error or define
 * a shared constant shows up here before a reviewer has to find it.
 */

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const files = sourceFiles(SRC).map((f) => ({ path: relative(SRC, f), text: readFileSync(f, 'utf8') }));
const proxy = files.filter((f) => f.path.startsWith('proxy/'));

/** The proxy files in which `pattern` occurs. */
const where = (pattern: RegExp) => proxy.filter((f) => pattern.test(f.text)).map((f) => f.path);

test('one exchange: only core/exchange.ts records intents and outcomes', () => {
  assert.ok(proxy.length > 10, 'control: the proxy sources were found');
  assert.deepEqual(where(/\.intent\(/), ['proxy/core/exchange.ts']);
  assert.deepEqual(where(/\.finish\(/), ['proxy/core/exchange.ts']);
});

test('one HTTP client path: only core/upstream-response.ts sends requests upstream', () => {
  // (undici-parts.ts: the lazily made Agent hands each dispatch on to undici's, unchanged)
  assert.deepEqual(where(/\.dispatch\(/), ['proxy/core/undici-parts.ts', 'proxy/core/upstream-response.ts']);
  assert.deepEqual(where(/\.request\(\{/), []);
  assert.deepEqual(where(/from 'node:http'.*\brequest\b|\brequest as httpRequest\b/), []);
});

test('one voice: only core/answer.ts renders error bodies, only the reply ports write answers', () => {
  assert.deepEqual(where(/JSON\.stringify\(\{ error/), ['proxy/core/answer.ts']);
  assert.deepEqual(where(/\.writeHead\(/), ['proxy/core/reply-port.ts']);
  // statuses come from the error registry: no call site names one
  assert.deepEqual(where(/new AirlockError\([^)]*status:/s), []);
});

test('one refusal path: only core/refusals.ts writes denial rows', () => {
  assert.deepEqual(where(/\.denied\(/), ['proxy/core/refusals.ts']);
});

test('proxy/core depends on no transport', () => {
  const core = proxy.filter((f) => f.path.startsWith('proxy/core/'));
  const bad = core.filter((f) => /from '\.\.\/(reverse|forward)\//.test(f.text)).map((f) => f.path);
  assert.deepEqual(bad, []);
});

/** name → the files (each once) where `pattern` defines it */
function definitions(among: typeof files, pattern: RegExp): [string, string[]][] {
  const defined = new Map<string, Set<string>>();
  for (const f of among) {
    for (const m of f.text.matchAll(pattern))
      defined.set(m[1]!, (defined.get(m[1]!) ?? new Set()).add(f.path));
  }
  return [...defined].map(([name, paths]) => [name, [...paths]]);
}

test('every exported constant (DEFAULT_…, lists, limits) of src/ is defined in one module', () => {
  const constants = definitions(files, /^export const ([A-Z][A-Z0-9_]+)\b/gm);
  assert.ok(constants.length > 10, 'control: constants were found');
  assert.deepEqual(
    constants.filter(([, paths]) => paths.length > 1),
    [],
  );
});

test('policy/ and proxy/ define each function once (one parser for a thing, not two)', () => {
  const among = files.filter((f) => /^(policy|proxy)\//.test(f.path));
  const functions = definitions(among, /^(?:export )?(?:async )?function (\w+)/gm);
  assert.ok(functions.length > 50, 'control: functions were found');
  assert.deepEqual(
    functions.filter(([, paths]) => paths.length > 1),
    [],
  );
});
