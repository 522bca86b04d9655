import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { evaluate } from '../src/policy/index.js';
import { builtin, startBench } from './helpers/proxy-bench.js';
import { grantAll } from './helpers/policy.js';

test('a policy refusal is answered with the policy’s own reason, recorded, and never forwarded', async (t) => {
  const policy = grantAll([builtin('openai')], { allowEndpoints: ['openai:POST:/v1/chat/completions'] });
  const bench = await startBench(t, { services: ['openai'], deps: { policy } });
  const denied = await request(`${bench.baseUrl}/proxy/openai/v1/models?x=1`);
  assert.equal(denied.statusCode, 403);
  const expected = evaluate(policy, {
    kind: 'service',
    service: 'openai',
    method: 'GET',
    target: '/v1/models?x=1',
  });
  assert.ok(!expected.allow);
  assert.deepEqual(await denied.body.json(), {
    error: { type: 'airlock_policy_denied', message: expected.message },
  });
  assert.match(expected.message, /GET \/v1\/models refused for service "openai".*--allow-endpoint/);
  assert.equal(bench.upstream.requests.length, 0);
  assert.equal(bench.audit.denials[0]?.reason, 'airlock_policy_denied');
  assert.equal(bench.audit.denials[0]?.path, '/v1/models');
  assert.equal(bench.audit.denials[0]?.host, `api.openai.com:${bench.upstream.port}`);

  const allowed = await request(`${bench.baseUrl}/proxy/openai/v1/chat/completions`, {
    method: 'POST',
    body: '{}',
  });
  assert.equal(allowed.statusCode, 200);
  await allowed.body.text();
  assert.equal(bench.upstream.requests.length, 1);
});

test('the proxy forwards exactly the target the policy checked (canonical), never re-parsed', async (t) => {
  const bench = await startBench(t, { services: ['openai'] });
  const res = await request(`${bench.baseUrl}/proxy/openai/v1/%66iles/a%2Db?q=%41&r=%2e%2e`);
  assert.equal(res.statusCode, 200);
  await res.body.text();
  assert.equal(bench.upstream.requests[0]?.path, '/v1/files/a-b?q=%41&r=%2e%2e');
});
