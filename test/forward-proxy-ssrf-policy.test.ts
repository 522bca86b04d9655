import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../src/config/load-config.js';
import { createSandboxPolicy } from '../src/policy/index.js';
import { forwardPolicy } from '../src/sandbox/proxy-policy.js';
import { connectThrough, startForwardBench } from './helpers/forward-bench.js';

// The SSRF guard airlock really uses (the policy's address classes), behind a proxy whose
// resolver and dialer are fakes that can only reach servers on 127.0.0.1.
const policy = createSandboxPolicy({ catalogue: parseConfig({}).catalogue, profiles: ['open'] });
const guard = forwardPolicy(policy);

test('the policy’s SSRF guard refuses every internal target before any dial', async (t) => {
  const bench = await startForwardBench(t, {
    isForbiddenAddress: (ip) => guard.isForbiddenAddress(ip),
    allowHost: () => true,
  });
  const targets = [
    '169.254.169.254:80', '[::ffff:a9fe:a9fe]:80', '[::ffff:169.254.169.254]:80', '[64:ff9b::a9fe:a9fe]:80',
    '100.64.0.1:80', '127.0.0.1:9090', '10.209.0.1:9090', '[::1]:80', '0.0.0.0:80',
    'metadata.test:80', 'mapped-metadata.test:80', 'nat64-metadata.test:80', 'cgnat.test:80',
    'loopback.test:80', 'gateway.test:9090', 'split.test:443', '2852039166:80', '0xa9fea9fe:80',
  ]; // prettier-ignore
  for (const target of targets) {
    const res = await connectThrough(bench.port, target, null);
    res.socket.destroy();
    assert.ok(res.status === 403 || res.status === 400, `${target}: got ${res.status}`);
  }
  assert.deepEqual(bench.dials, [], 'not one internal address was dialled');
  // positive control: a fake-internet address passes the same guard
  const ok = await connectThrough(bench.port, 'allowed.test:443');
  ok.socket.destroy();
  assert.equal(ok.status, 200);
  assert.deepEqual(bench.dials, [{ ip: '203.0.113.10', port: 443 }]);
});

test('the profiles decide which hosts the forward proxy serves', () => {
  const fake = createSandboxPolicy({
    catalogue: parseConfig({}).catalogue,
    profiles: ['github'],
  });
  const g = forwardPolicy(fake);
  assert.equal(g.allowHost('github.com', 443), true);
  assert.equal(g.allowHost('codeload.github.com', 443), true);
  assert.equal(g.allowHost('github.com.evil.test', 443), false);
  assert.equal(g.allowHost('example.com', 443), false);
  assert.equal(g.allowHost('github.com', 22), false, 'only the web ports');
});
