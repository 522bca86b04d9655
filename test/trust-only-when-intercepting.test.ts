import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from './helpers/cli.js';
import { canarySecret } from './helpers/proxy-bench.js';
import { needsRoot, tempHome } from './helpers/sandbox-bench.js';

/** what the guest's view says of the sandbox CA: the bundle file, and where SSL_CERT_FILE points */
const PROBE =
  'if [ -e /run/airlock/ca-bundle.pem ]; then echo bundle; else echo none; fi; echo "ssl=${SSL_CERT_FILE:-unset}"';

test(
  'a sandbox CA, its trust files and variables exist only where a CONNECT can be intercepted',
  { skip: needsRoot },
  async (t) => {
    const env = { AIRLOCK_HOME: tempHome(t), OPENAI_API_KEY: canarySecret('trust') };
    const run = (flags: string[]) => runCli(['run', '--no-workdir', ...flags, '--', 'sh', '-c', PROBE], env);

    const plain = await run([]);
    assert.equal(plain.status, 0, plain.stderr);
    assert.equal(plain.stdout, 'none\nssl=unset\n', 'no credential, no --intercept all: no CA');

    const credential = await run(['--cred', 'OPENAI_API_KEY']);
    assert.equal(credential.status, 0, credential.stderr);
    assert.equal(credential.stdout, 'bundle\nssl=/run/airlock/ca-bundle.pem\n');

    const all = await run(['--intercept', 'all', '--profile', 'open']);
    assert.equal(all.status, 0, all.stderr);
    assert.equal(all.stdout, 'bundle\nssl=/run/airlock/ca-bundle.pem\n');
  },
);
