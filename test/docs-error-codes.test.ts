import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readdirSync, readFileSync } from 'node:fs';
import { ERRORS, errorType, type ErrorCode } from '../src/errors.js';
import { docFiles, readDoc, REPO } from './helpers/docs.js';

const CODES = new Set(Object.keys(ERRORS));
const TYPES = new Set((Object.keys(ERRORS) as ErrorCode[]).map(errorType));
/** nftables table names (`inet airlock_guest`) look like types but are not */
const TABLES = new Set(
  readdirSync(`${REPO}netns`).flatMap((f) =>
    [...readFileSync(`${REPO}netns/${f}`, 'utf8').matchAll(/^table inet (\w+)/gm)].map((m) => m[1]!),
  ),
);

test('every error code and error type the docs name exists in src/errors.ts', () => {
  const unknown: string[] = [];
  let named = 0;
  for (const file of docFiles()) {
    const text = readDoc(file);
    // AIRLOCK_ERR_… and AIRLOCK_ERR_* stand for any code
    for (const m of text.matchAll(/\bAIRLOCK_ERR_[A-Z0-9_]*[A-Z0-9]/g)) {
      named++;
      if (!CODES.has(m[0])) unknown.push(`${file}: ${m[0]}`);
    }
    for (const m of text.matchAll(/\bairlock_[a-z0-9_]*[a-z0-9]\b/g)) {
      named++;
      if (!TYPES.has(m[0]) && !TABLES.has(m[0])) unknown.push(`${file}: ${m[0]}`);
    }
  }
  assert.ok(named > 50, `control: the docs name codes (${named})`);
  assert.ok(TABLES.has('airlock_guest'), 'control: the guest table name was read');
  assert.deepEqual(unknown, []);
});
