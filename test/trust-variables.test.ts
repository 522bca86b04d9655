import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SANDBOX_CA_PATH, TRUST_BUNDLE_PATH, trustVariables } from '../src/sandbox/guest-env.js';
import { trustFiles } from '../src/sandbox/trust-bundle.js';

test('the trust variables name the bundle (NODE_EXTRA_CA_CERTS the CA alone); a caller’s own stay', () => {
  const all = trustVariables();
  for (const name of ['SSL_CERT_FILE', 'CURL_CA_BUNDLE', 'REQUESTS_CA_BUNDLE', 'GIT_SSL_CAINFO', 'PIP_CERT'])
    assert.equal(all[name], TRUST_BUNDLE_PATH, name);
  assert.equal(all.NODE_EXTRA_CA_CERTS, SANDBOX_CA_PATH);
  const withGit = trustVariables({ GIT_SSL_CAINFO: '/work/ca.pem' });
  assert.equal(withGit.GIT_SSL_CAINFO, undefined, 'the caller sets it');
  assert.equal(withGit.SSL_CERT_FILE, TRUST_BUNDLE_PATH);
  // pip's requests lets these two override its --cert: with PIP_CERT from the caller, neither is set
  const withPip = trustVariables({ PIP_CERT: '/work/ca.pem' });
  for (const name of ['PIP_CERT', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'])
    assert.equal(withPip[name], undefined);
  assert.equal(withPip.GIT_SSL_CAINFO, TRUST_BUNDLE_PATH);
});

test('the bundle is the system CAs followed by the sandbox CA, certificates only', () => {
  const ca = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
  const files = trustFiles(ca, '/nonexistent/bundle.crt'); // falls back to Node's roots
  const bundle = files[TRUST_BUNDLE_PATH]!.join('');
  assert.ok(bundle.endsWith(`${ca}\n`));
  assert.ok(bundle.split('BEGIN CERTIFICATE').length > 100, 'the system roots come first');
  assert.equal(files[SANDBOX_CA_PATH]!.join(''), `${ca}\n`);
  assert.doesNotMatch(bundle, /PRIVATE KEY/);
});

test('every sandbox shares one copy of the system bundle, and a changed bundle is read again', (t) => {
  // a thousand sandboxes each held their own ~220 KB copy: most of an idle sandbox's memory
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const dir = mkdtempSync(join(tmpdir(), 'airlock-bundle-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'bundle.crt');
  const roots = `-----BEGIN CERTIFICATE-----\n${'A'.repeat(64)}\n-----END CERTIFICATE-----\n`.repeat(2_500);
  writeFileSync(path, roots);
  const ca = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  const held: Record<string, readonly string[]>[] = [];
  /** heap growth of 50 sandboxes' trust files, the first made before measuring */
  const growth = (bundle: string) => {
    held.push(trustFiles(ca, bundle));
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 50; i++) held.push(trustFiles(ca, bundle));
    gc();
    return process.memoryUsage().heapUsed - before;
  };
  assert.ok(roots.length > 200_000, 'control: a bundle the size of a system one');
  const grown = growth(path);
  assert.ok(grown < 2_000_000, `50 sandboxes' trust files grew the heap by ${grown} bytes`);
  assert.equal(held.at(-1)![TRUST_BUNDLE_PATH]!.join(''), roots + ca);
  const withoutBundle = growth(join(dir, 'none.crt')); // Node's roots instead
  assert.ok(withoutBundle < 2_000_000, `without a system bundle: ${withoutBundle} bytes`);
  writeFileSync(path, `${roots}# changed\n`);
  assert.equal(trustFiles(ca, path)[TRUST_BUNDLE_PATH]!.join(''), `${roots}# changed\n${ca}`);
});
