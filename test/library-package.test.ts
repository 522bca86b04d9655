import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { leftoversOf, sandboxHome } from './helpers/home-leftovers.js';
import { freshProject, REPO } from './helpers/package.js';
import { needsRoot } from './helpers/sandbox-bench.js';

const run = promisify(execFile);

test('the package exports the engine with its types, and nothing needs a deep import', async (t) => {
  const dir = await freshProject(t);
  const manifest = JSON.parse(readFileSync(join(dir, 'node_modules/airlock/package.json'), 'utf8')) as {
    exports: Record<string, { types: string; import: string }>;
  };
  const types = readFileSync(join(dir, 'node_modules/airlock', manifest.exports['.']!.types), 'utf8');
  assert.match(types, /Engine/);
  const { stdout } = await run(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "const m = await import('airlock'); console.log(Object.keys(m).sort().join(' '))",
    ],
    { cwd: dir },
  );
  for (const name of ['AirlockError', 'Engine', 'EngineSandbox', 'loadConfig', 'openAuditQuery']) {
    assert.ok(
      stdout
        .split(' ')
        .map((s) => s.trim())
        .includes(name),
      `exports ${name}: ${stdout}`,
    );
  }
});

test(
  'examples/two-sandboxes.mjs runs from a fresh project and leaves nothing behind',
  { skip: needsRoot },
  async (t) => {
    const dir = await freshProject(t);
    const home = sandboxHome(t);
    copyFileSync(join(REPO, 'examples/two-sandboxes.mjs'), join(dir, 'example.mjs'));
    const { stdout } = await run(process.execPath, ['example.mjs'], {
      cwd: dir,
      env: { PATH: process.env.PATH, AIRLOCK_HOME: home, OPENAI_API_KEY: 'sk-canary-library-7f3a' },
      timeout: 60_000,
    });
    assert.match(stdout, /^agent sees: sk-airlock-\S+ http:\/\/[\d.]+:\d+\/proxy\/openai\/v1$/m);
    assert.doesNotMatch(stdout, /sk-canary-library-7f3a/);
    assert.match(stdout, /^tool's call refused as expected: true$/m);
    assert.match(stdout, /^exit codes: 0 3$/m);
    assert.match(stdout, /^audit: GET \/v1\/models → 403 denied \(airlock_policy_denied\)$/m);
    assert.match(stdout, /^live sandboxes: example-agent$/m);
    const left = await leftoversOf([home]);
    assert.equal(left.recorded, 2, 'control: the example made two sandboxes in this home');
    assert.deepEqual(
      { ...left, recorded: 0 },
      { recorded: 0, netns: [], links: [], elements: [], cgroups: [] },
    );
  },
);
