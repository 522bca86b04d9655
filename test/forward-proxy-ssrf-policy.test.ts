import assert from 'node:assert/strict';
import { test } from 'node:test';
import { grantAll, forwardAllowed, policyWith } from './helpers/policy.js';
import { builtin } from './helpers/proxy-bench.js';
import { connectThrough, startForwardBench } from './helpers/forward-bench.js';

// The real policy under the `open` profile (any host), behind a proxy whose resolver and
// dialer are fakes that can only reach servers on loopback: the address checks must hold.
const open = grantAll([builtin('openai')], { profiles: ['open'] });

test('under open, every internal target is refused before any dial', async (t) => {
  const bench = await startForwardBench(t, { policy: open });
  const targets = [
    '169.254.169.254:80', '[::ffff:a9fe:a9fe]:80', '[::ffff:169.254.169.254]:80', '[64:ff9b::a9fe:a9fe]:80',
    '100.64.0.1:80', '127.0.0.1:443', '10.209.0.1:443', '[::1]:80', '0.0.0.0:80', '[::]:443',
    'metadata.test:80', 'mapped-metadata.test:80', 'nat64-metadata.test:80', 'cgnat.test:80',
    'loopback.test:80', 'gateway.test:443', 'split.test:443', '2852039166:80', '0xa9fea9fe:80',
    '0x7f.1:443', 'documentation.test:443', '203.0.113.10:443',
  ]; // prettier-ignore
  for (const target of targets) {
    const res = await connectThrough(bench.port, target, null);
    res.socket.destroy();
    assert.equal(res.status, 403, `${target}: got ${res.status}`);
    assert.match(res.head, /"type":"airlock_forbidden_address"/, target);
  }
  assert.deepEqual(bench.dials, [], 'not one internal address was dialled');
  // positive control: a host the admin pinned passes the same guard
  const ok = await connectThrough(bench.port, 'allowed.test:443');
  ok.socket.destroy();
  assert.equal(ok.status, 200);
  assert.deepEqual(bench.dials, [{ ip: '127.0.0.1', port: 443 }]);
});

test('the profiles decide which hosts the forward proxy serves', () => {
  const github = policyWith({ profiles: ['github'] });
  assert.equal(forwardAllowed(github, 'github.com'), true);
  assert.equal(forwardAllowed(github, 'codeload.github.com'), true);
  assert.equal(forwardAllowed(github, 'github.com.evil.test'), false);
  assert.equal(forwardAllowed(github, 'example.com'), false);
  assert.equal(forwardAllowed(github, 'github.com', 22), false, 'only the web ports');
});
