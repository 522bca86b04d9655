import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectThrough, startForwardBench } from './helpers/forward-bench.js';

test('SSRF: names and literals that lead to internal addresses are refused before any dial', async (t) => {
  const bench = await startForwardBench(t); // allowHost says yes to all of these: the address check must hold
  const targets = [
    '169.254.169.254:80',
    '[::ffff:a9fe:a9fe]:80',
    '[::ffff:169.254.169.254]:80',
    '[64:ff9b::a9fe:a9fe]:80',
    '100.64.0.1:80',
    '127.0.0.1:9090',
    '10.209.0.1:9090',
    '[::1]:80',
    '0.0.0.0:80',
    'metadata.test:80',
    'mapped-metadata.test:80',
    'nat64-metadata.test:80',
    'cgnat.test:80',
    'loopback.test:80',
    'gateway.test:9090',
    'split.test:443',
    '2852039166:80',
    '0xa9fea9fe:80',
  ];
  for (const target of targets) {
    const res = await connectThrough(bench.port, target, null);
    assert.equal(res.status >= 400, true, `${target} got ${res.status}`);
    assert.ok(
      res.status === 403 || res.status === 400,
      `${target}: refused as forbidden or malformed, got ${res.status}`,
    );
  }
  assert.deepEqual(bench.dials, [], 'not one forbidden address was dialled');
});

test('a host the admin pinned in resolve may be internal', async (t) => {
  const bench = await startForwardBench(t);
  const res = await connectThrough(bench.port, 'pinned.test:7000');
  assert.equal(res.status, 200);
  res.socket.destroy();
  assert.deepEqual(bench.dials, [{ ip: '10.0.0.5', port: 7000 }]);
  assert.deepEqual(bench.lookups, [], 'a pinned host is never looked up');
});

test('with no forward proxy configured, CONNECT and absolute-form are refused', async (t) => {
  const { startBench } = await import('./helpers/proxy-bench.js');
  const bench = await startBench(t, { services: ['openai'] });
  const res = await connectThrough(bench.proxy.address.port, 'allowed.test:443');
  assert.equal(res.status, 403);
  assert.match(res.head, /airlock_proxy_host_denied/);
});
