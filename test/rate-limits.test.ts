import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Agent, request } from 'undici';
import { createRateLimit } from '../src/proxy/core/rate-limit.js';
import { grantAll } from './helpers/policy.js';
import { builtin, startBench } from './helpers/proxy-bench.js';

test('a token bucket: a burst, then the rate, refilled by the clock; 0 is no limit', () => {
  let now = 0;
  const bucket = createRateLimit(2, 3, () => now);
  assert.deepEqual(
    [1, 2, 3, 4].map(() => bucket.take()),
    [true, true, true, false],
    'the burst',
  );
  now += 500; // half a second at 2/s: one token
  assert.deepEqual([bucket.take(), bucket.take()], [true, false]);
  now += 10_000; // never more than the burst
  assert.equal([1, 2, 3, 4, 5].filter(() => bucket.take()).length, 3);
  const unlimited = createRateLimit(0, 0, () => now);
  assert.ok(Array.from({ length: 1000 }, () => unlimited.take()).every(Boolean));
});

test('past its request rate a sandbox gets 429 with Retry-After; its refusals past their rate are folded, all counted', async (t) => {
  const policy = grantAll([builtin('openai')], { allowEndpoints: ['openai:POST:/v1/chat/completions'] });
  const limits = { requestsPerSecond: 1, requestBurst: 10, refusalsPerSecond: 1, refusalBurst: 4 };
  const bench = await startBench(t, {
    services: ['openai'],
    sandboxId: 'sbx-limited',
    deps: { policy, limits },
  });
  const agent = new Agent({ connections: 8 });
  t.after(() => agent.close());
  const send = async (method: string, path: string) => {
    const res = await request(`${bench.baseUrl}/proxy/openai${path}`, {
      method,
      dispatcher: agent,
      body: method === 'POST' ? '{}' : null,
    });
    return {
      status: res.statusCode,
      headers: res.headers,
      body: (await res.body.json()) as { error?: { type: string; message: string } },
    };
  };

  // 6 allowed calls, then 4 refused ones: within the request burst of 10
  const allowed = await Promise.all(Array.from({ length: 6 }, () => send('POST', '/v1/chat/completions')));
  assert.deepEqual(
    allowed.map((r) => r.status),
    [200, 200, 200, 200, 200, 200],
  );
  const denied = await Promise.all(Array.from({ length: 4 }, (_, i) => send('GET', `/v1/denied/${i}`)));
  assert.deepEqual(
    denied.map((r) => r.status),
    [403, 403, 403, 403],
    'the refusal burst: each answered as itself',
  );

  // past the request burst: 429 with Retry-After, whatever the request
  const over = await Promise.all(Array.from({ length: 20 }, () => send('POST', '/v1/chat/completions')));
  const limited = over.filter((r) => r.status === 429);
  assert.ok(
    limited.length >= 15,
    `past the burst the calls are refused: ${over.map((r) => r.status).join(',')}`,
  );
  for (const r of limited) {
    assert.equal(r.body.error?.type, 'airlock_rate_limited');
    assert.equal(r.headers['retry-after'], '1');
  }
  assert.equal(bench.upstream.requests.length, 6 + (20 - limited.length), 'a 429 never went upstream');

  // every refusal is on record: a row each up to the refusal rate, the rest counted in one folded row
  await bench.proxy.close();
  const folded = bench.audit.denials.filter((d) => d.method === '*');
  const itemised = bench.audit.denials.filter((d) => d.method !== '*');
  assert.ok(itemised.length >= 4 && itemised.length < 4 + limited.length, `itemised: ${itemised.length}`);
  const counts = folded.map((d) =>
    Number(/^airlock_rate_limited: (\d+) refusals folded \(/.exec(d.reason)?.[1]),
  );
  assert.equal(
    itemised.length + counts.reduce((a, b) => a + b, 0),
    4 + limited.length,
    'every refusal counted once',
  );
  for (const d of folded) assert.equal(d.status, 429);
});
