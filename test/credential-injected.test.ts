import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { respond } from './helpers/fake-upstream.js';
import { startBench } from './helpers/proxy-bench.js';

test('the guest placeholder is swapped for the real key, which reaches the upstream exactly once', async (t) => {
  const bench = await startBench(t, { services: ['openai'], handler: respond.echo() });
  const cred = bench.credentials.openai!;
  const res = await request(`${bench.baseUrl}/proxy/openai/v1/models?limit=2`, {
    headers: { authorization: `Bearer ${cred.placeholder}`, 'x-custom': 'kept' },
  });
  assert.equal(res.statusCode, 200);
  await res.body.text();
  const seen = bench.upstream.requests[0]!;
  assert.equal(seen.path, '/v1/models?limit=2');
  assert.equal(seen.headers.host, `api.openai.com:${bench.upstream.port}`);
  assert.equal(seen.servername, 'api.openai.com');
  const auth = seen.rawHeaders.filter((_v, i, a) => i % 2 === 0 && a[i]!.toLowerCase() === 'authorization');
  assert.equal(auth.length, 1, 'exactly one Authorization header');
  assert.equal(seen.headers.authorization, `Bearer ${cred.secret}`);
  assert.equal(seen.headers['x-custom'], 'kept');
  assert.equal(seen.headers['accept-encoding'], 'identity');
  assert.ok(!seen.rawHeaders.join('\n').includes(cred.placeholder), 'placeholder never forwarded');
  const [intent] = bench.audit.intents;
  assert.equal(intent?.credential, 'OPENAI_API_KEY');
  assert.equal(intent?.path, '/v1/models');
  assert.equal(intent?.query, 'limit=2');
  const [outcome] = await bench.audit.outcomesReached(1);
  assert.equal(outcome?.status, 200);
  assert.equal(outcome?.decision, 'allowed');
});

test('a request without any credential gets the real one too', async (t) => {
  const bench = await startBench(t, { services: ['anthropic'], handler: respond.echo() });
  const res = await request(`${bench.baseUrl}/proxy/anthropic/v1/messages`, { method: 'POST', body: '{}' });
  assert.equal(res.statusCode, 200);
  await res.body.text();
  const seen = bench.upstream.requests[0]!;
  assert.equal(seen.headers['x-api-key'], bench.credentials.anthropic!.secret);
  assert.equal(seen.headers.authorization, undefined);
  assert.equal(seen.body.toString(), '{}');
});
