import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const SRC = fileURLToPath(new URL('../src', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

// `import ... from 'undici'` loads its fetch, WebSocket, cookies and cache too (~70 ms of every
// `airlock run`): the proxy takes undici's parts from src/proxy/core/undici-parts.ts only.
test("no source file loads undici's index: its parts come from undici-parts.ts", () => {
  const offenders = sources(SRC).filter((file) =>
    /^import (?!type\b)[^;]*from 'undici';/m.test(readFileSync(file, 'utf8')),
  );
  assert.deepEqual(offenders, []);
});
