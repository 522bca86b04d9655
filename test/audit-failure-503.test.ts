import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { startBench } from './helpers/proxy-bench.js';

test('when the audit intent cannot be written: 503, and the upstream sees nothing at all', async (t) => {
  const bench = await startBench(t, { services: ['openai'] });
  bench.audit.failIntents(true);
  const res = await request(`${bench.baseUrl}/proxy/openai/v1/chat/completions`, {
    method: 'POST',
    body: JSON.stringify({ model: 'gpt-test' }),
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(res.statusCode, 503);
  const body = (await res.body.json()) as { error: { type: string } };
  assert.equal(body.error.type, 'airlock_audit_write');
  assert.equal(bench.upstream.requests.length, 0);
  assert.equal(bench.upstream.connections, 0, 'not even a connection was opened');

  bench.audit.failIntents(false);
  const again = await request(`${bench.baseUrl}/proxy/openai/v1/models`);
  assert.equal(again.statusCode, 200, 'works again once the audit log does');
  await again.body.text();
});
