import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { leftovers } from './helpers/fake-internet.js';
import { needsRoot, tempHome } from './helpers/sandbox-bench.js';

// The executable people run is the bundle `npm run build` writes to dist/bin/ (package.json
// "bin"); the other tests run the TypeScript sources, so this one runs the bundle itself.
const BUNDLE = fileURLToPath(new URL('../dist/bin/airlock.js', import.meta.url));

function airlock(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(BUNDLE, args, { env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('the bundled executable starts on its own: --version and --help', () => {
  assert.equal(statSync(BUNDLE).mode & 0o111, 0o111, 'dist/bin/airlock.js is executable');
  const version = airlock(['--version']);
  assert.equal(version.status, 0, version.stderr);
  assert.match(version.stdout, /^airlock \d+\.\d+\.\d+\n$/);
  assert.match(airlock(['--help']).stdout, /Usage: airlock <command>/);
});

test(
  'the bundled executable runs a sandbox whose proxy and audit writer work',
  { skip: needsRoot },
  async (t) => {
    const env = { AIRLOCK_HOME: tempHome(t) };
    // a request to a service nobody configured: the proxy refuses it and the audit thread records it
    const request = 'curl -s -o /dev/null -w "%{http_code}" "$AIRLOCK_PROXY_URL/proxy/nosuch/v1/x"';
    const run = airlock(['run', '--no-workdir', '--', 'sh', '-c', request], env);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, '404');
    const audit = airlock(['audit', '--json'], env);
    assert.equal(audit.status, 0, audit.stderr);
    const rows = audit.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { status: number; path: string });
    assert.deepEqual(
      rows.map((r) => [r.status, r.path]),
      [[404, '/v1/x']],
    );
    assert.deepEqual(await leftovers(), { netns: [], links: [], elements: 0, cgroups: [] });
  },
);
