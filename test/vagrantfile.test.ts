import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO } from './helpers/package.js';

// Vagrant cannot run here: these read the Vagrantfile for what `vagrant up` would do.
const VAGRANTFILE = readFileSync(join(REPO, 'Vagrantfile'), 'utf8');
const MANIFEST = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { bin: { airlock: string } };

test('the VM links /usr/local/bin/airlock to the package’s bin, which the build leaves executable', () => {
  const link = /ln -sf \/airlock\/(\S+) \/usr\/local\/bin\/airlock$/m.exec(VAGRANTFILE);
  assert.ok(link, 'the Vagrantfile links /usr/local/bin/airlock');
  assert.equal(link[1], MANIFEST.bin.airlock);
  assert.ok(
    VAGRANTFILE.indexOf('scripts/install.sh') < VAGRANTFILE.indexOf(link[0]),
    'the build runs before the link is made',
  );
  assert.ok(statSync(join(REPO, MANIFEST.bin.airlock)).mode & 0o111, `${MANIFEST.bin.airlock} is executable`);
});

test('the VM has a box for arm64 hosts too and a synced folder that follows edits', () => {
  const box = /config\.vm\.box = '([^']+)'/.exec(VAGRANTFILE)?.[1];
  // bento's boxes carry amd64 and arm64 builds, chosen by Vagrant >= 2.4 (debian/bookworm64 is amd64 only)
  assert.match(box ?? '', /^bento\//);
  assert.match(VAGRANTFILE, /^Vagrant\.require_version '>= 2\.4\.0'$/m);
  const synced = /config\.vm\.synced_folder '\.', '\/airlock'(.*)$/m.exec(VAGRANTFILE);
  assert.ok(synced, 'the clone is shared at /airlock');
  assert.doesNotMatch(synced[1]!, /rsync/, 'an rsync folder is copied once, at vagrant up');
  assert.match(VAGRANTFILE, /mount --bind \S+ \/airlock\/node_modules/, 'node_modules stays in the VM');
});
