import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERRORS, errorStatus, errorType, type ErrorCode } from '../src/errors.js';

const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
/** Every table row that starts with a code: its cells after the code. */
const rows = new Map(
  [...doc.matchAll(/^\|\s*`(AIRLOCK_ERR_[A-Z_]+)`\s*\|(.*)$/gm)].map((m) => [
    m[1]!,
    m[2]!.split('|').map((c) => c.trim()),
  ]),
);

test('every error code is documented in docs/errors.md, and nothing else is', () => {
  assert.deepEqual([...rows.keys()].sort(), Object.keys(ERRORS).sort());
});

test('docs/errors.md gives each HTTP answer the status and type the registry gives it', () => {
  const http = (Object.keys(ERRORS) as ErrorCode[]).filter((c) => errorStatus(c) !== undefined);
  assert.ok(http.length >= 10, 'control: the registry holds the proxy answers');
  for (const code of http) {
    const [status, type] = rows.get(code) ?? [];
    assert.equal(Number(status), errorStatus(code), code);
    assert.equal(type, `\`${errorType(code)}\``, code);
  }
});
