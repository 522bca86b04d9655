import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const LOADER = new URL('../src/cli/code-cache.ts', import.meta.url).href;

/** Loads `file` with loadCommonJs in a fresh process (the cache is written when it exits); returns its exports. */
function load(file: string, cacheDir: string): unknown {
  const script = `import { loadCommonJs } from ${JSON.stringify(LOADER)};
    process.stdout.write(JSON.stringify(loadCommonJs(${JSON.stringify(file)}, ${JSON.stringify(cacheDir)})));`;
  return JSON.parse(
    execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    }),
  );
}

test('a CommonJS file runs with its code cache, which is made once and replaced when the source changes', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-code-cache-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cache = join(dir, 'cache');
  execFileSync('mkdir', ['-m', '0700', cache]);
  const file = join(dir, 'command.cjs');
  writeFileSync(
    file,
    "const { sep } = require('node:path'); module.exports = { answer: 42, sep, name: __filename };\n",
  );

  assert.deepEqual(load(file, cache), { answer: 42, sep: '/', name: file });
  const [made, ...others] = readdirSync(cache);
  assert.deepEqual(others, []);
  assert.match(made!, /^command\.cjs-[0-9a-f]{32}\.v8$/);
  const path = join(cache, made!);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const first = statSync(path);

  // accepted: not written again
  assert.deepEqual(load(file, cache), { answer: 42, sep: '/', name: file });
  assert.equal(statSync(path).mtimeMs, first.mtimeMs);

  // a cache V8 refuses, or one others could have written, is not used, and is made anew
  writeFileSync(path, 'not a code cache');
  assert.deepEqual(load(file, cache), { answer: 42, sep: '/', name: file });
  assert.notEqual(readFileSync(path, 'utf8'), 'not a code cache');
  chmodSync(path, 0o666);
  load(file, cache);
  assert.equal(statSync(path).mode & 0o777, 0o600, 'written anew');

  // new code (same length): its own cache, the old one removed
  writeFileSync(file, readFileSync(file, 'utf8').replace('42', '43'));
  assert.deepEqual(load(file, cache), { answer: 43, sep: '/', name: file });
  const after = readdirSync(cache);
  assert.equal(after.length, 1);
  assert.notEqual(after[0], made);
});

test('without a cache folder the file still runs', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-code-cache-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'command.cjs');
  writeFileSync(file, 'module.exports = { ok: true };\n');
  const script = `import { loadCommonJs } from ${JSON.stringify(LOADER)};
    process.stdout.write(JSON.stringify(loadCommonJs(${JSON.stringify(file)}, null)));`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  assert.deepEqual(JSON.parse(out), { ok: true });
  assert.deepEqual(readdirSync(dir), ['command.cjs']);
});
