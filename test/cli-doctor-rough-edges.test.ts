import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { test } from 'node:test';
import { runChecks } from '../src/cli/doctor.js';
import { main } from '../src/cli/main.js';
import { openDatabase } from '../src/store/database.js';
import { captureIo } from './helpers/cli.js';
import { needsRoot, tempHome } from './helpers/sandbox-bench.js';
import { tempDir } from './helpers/temp-dir.js';

test(
  'doctor runs the nft it reports, and names it (not modprobe) when it fails',
  { skip: needsRoot },
  async (t) => {
    const bin = tempDir(t);
    const nft = bin.write('nft', '#!/bin/sh\necho "fake nft: broken" >&2\nexit 1\n');
    chmodSync(nft, 0o755);
    const checks = await runChecks({ PATH: `${bin.dir}:/usr/bin:/bin`, AIRLOCK_HOME: tempHome(t) });
    const found = checks.find((c) => c.name === 'nft');
    const kernel = checks.find((c) => c.name === 'nf_tables');
    assert.equal(found?.detail, nft);
    assert.equal(kernel?.ok, false, 'the check ran another nft than the one it reported');
    assert.equal(kernel.detail, 'fake nft: broken');
    assert.match(kernel.fix ?? '', new RegExp(`^${nft} failed \\(exit 1\\)`));
    assert.doesNotMatch(kernel.fix ?? '', /modprobe/);
  },
);

test(
  'with /usr/sbin off PATH doctor finds and runs the sbin programs as airlock does',
  { skip: needsRoot },
  async (t) => {
    const checks = await runChecks({ PATH: '/usr/local/bin:/usr/bin:/bin', AIRLOCK_HOME: tempHome(t) });
    for (const name of ['nft', 'nf_tables', 'netns']) {
      const c = checks.find((x) => x.name === name);
      assert.equal(c?.ok, true, `${name}: ${c?.detail} ${c?.fix ?? ''}`);
    }
  },
);

test('audit as a user other than root says it needs root, not "chmod"', { skip: needsRoot }, async (t) => {
  const home = tempHome(t);
  openDatabase({ home }).close(); // a real audit log, root's
  const io = captureIo({ AIRLOCK_HOME: home });
  process.seteuid!(65534);
  let status: number;
  try {
    status = await main(['audit'], io);
  } finally {
    process.seteuid!(0);
  }
  assert.equal(status, 125);
  assert.match(io.err(), /audit log need root \[AIRLOCK_ERR_NOT_ROOT\]/);
  assert.match(io.err(), /hint: run it with sudo/);
  assert.doesNotMatch(io.err(), /chmod|EPERM/);
});
