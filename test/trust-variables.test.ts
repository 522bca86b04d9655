import assert from 'node:assert/strict';
import { test } from 'node:test';
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
  const bundle = files[TRUST_BUNDLE_PATH]!;
  assert.ok(bundle.endsWith(`${ca}\n`));
  assert.ok(bundle.split('BEGIN CERTIFICATE').length > 100, 'the system roots come first');
  assert.equal(files[SANDBOX_CA_PATH], `${ca}\n`);
  assert.doesNotMatch(bundle, /PRIVATE KEY/);
});
