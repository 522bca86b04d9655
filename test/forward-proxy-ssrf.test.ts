import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectThrough, startForwardBench } from './helpers/forward-bench.js';
import { policyWith } from './helpers/policy.js';
import { startBench } from './helpers/proxy-bench.js';

test('a host the admin pinned in resolve may be internal', async (t) => {
  const bench = await startForwardBench(t);
  const res = await connectThrough(bench.port, 'pinned.test:443');
  assert.equal(res.status, 200);
  res.socket.destroy();
  assert.deepEqual(bench.dials, [{ ip: '127.0.0.2', port: 443 }]);
  assert.deepEqual(bench.lookups, [], 'a pinned host is never looked up');
});

test('the test ranges are reachable only when the config allows them', async (t) => {
  const shut = await startForwardBench(t);
  const refused = await connectThrough(shut.port, 'documentation.test:443');
  assert.equal(refused.status, 403);
  assert.match(refused.head, /203\.0\.113\.10.*documentation address/);
  assert.deepEqual(shut.dials, []);
  const opened = await startForwardBench(t, {
    egress: { allowTestRanges: true, dial: () => Promise.reject(new Error('counted, never connected')) },
  });
  const tried = await connectThrough(opened.port, 'documentation.test:443');
  assert.equal(tried.status, 502, 'the guard let it through to the (refusing) dialer');
});

test('a sandbox whose profiles allow no host refuses CONNECT and absolute-form with the reason', async (t) => {
  const bench = await startBench(t, {
    services: ['openai'],
    deps: { policy: policyWith({ credentials: ['OPENAI_API_KEY'] }) },
  });
  const res = await connectThrough(bench.proxy.address.port, 'allowed.test:443');
  assert.equal(res.status, 403);
  assert.match(res.head, /"type":"airlock_policy_denied"/);
  assert.match(
    res.head,
    /allowed\.test is not allowed by no profile \(credentials only\) \(allowed: api\.openai\.com\)/,
  );
});
