import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';
import { docFiles, prose, readDoc, REPO } from './helpers/docs.js';

/** Where a relative reference in `file` points, or null when it leaves the repository. */
function target(file: string, ref: string): string | null {
  const path = normalize(join(dirname(file), decodeURIComponent(ref.split('#')[0]!)));
  return relative('.', path).startsWith('..') ? null : path;
}

test('every relative link and path in README.md and docs/*.md names a file in the repository', () => {
  const broken: string[] = [];
  let checked = 0;
  for (const file of docFiles()) {
    const text = prose(readDoc(file));
    // [text](ref) links, and `path/to/file.md` code spans that name another document
    const refs = [
      ...[...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => ({ ref: m[1]!, fromRoot: false })),
      ...[...text.matchAll(/`((?:\.\.?\/)?[\w.-]+\/[\w./-]*\.md)`/g)].map((m) => ({
        ref: m[1]!,
        fromRoot: !m[1]!.startsWith('.'),
      })),
    ];
    for (const { ref, fromRoot } of refs) {
      if (/^[a-z]+:/i.test(ref) || ref.startsWith('#')) continue;
      checked++;
      const inFile = target(file, ref);
      const inRoot = fromRoot ? target('README.md', ref) : null;
      const ok = [inFile, inRoot].some((p) => p !== null && existsSync(join(REPO, p)));
      if (!ok) broken.push(`${file}: ${ref}`);
    }
  }
  assert.ok(checked > 10, `control: references found (${checked})`);
  assert.deepEqual(broken, []);
});
