import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { createFakeUpstream, respond } from './helpers/fake-upstream.js';
import { startBench } from './helpers/proxy-bench.js';
import { createTestCa } from './helpers/test-ca.js';

type ErrorBody = { error: { type: string; message: string } };

test('an upstream certificate from an untrusted CA is a 502 TLS error', async (t) => {
  const bench = await startBench(t, { services: ['openai'], upstreamCa: [] }); // system CAs only
  const res = await request(`${bench.baseUrl}/proxy/openai/v1/models`);
  assert.equal(res.statusCode, 502);
  const body = (await res.body.json()) as ErrorBody;
  assert.equal(body.error.type, 'airlock_upstream_tls');
  assert.equal(bench.upstream.requests.length, 0);
  const [outcome] = await bench.audit.outcomesReached(1);
  assert.equal(outcome?.decision, 'error');
  assert.equal(outcome?.status, 502);
});

test('a certificate for another hostname is a 502 TLS error', async (t) => {
  const ca = createTestCa(t);
  const wrong = await createFakeUpstream({ ca, hostnames: ['not-openai.test'], t });
  const bench = await startBench(t, { ca, upstream: wrong, services: ['openai'] });
  const res = await request(`${bench.baseUrl}/proxy/openai/v1/models`);
  assert.equal(res.statusCode, 502);
  assert.equal(((await res.body.json()) as ErrorBody).error.type, 'airlock_upstream_tls');
  assert.equal(wrong.requests.length, 0);
});

test('an extra CA is added to the system CAs, not a replacement', async (t) => {
  const bench = await startBench(t, { services: ['openai'] });
  const { rootCertificates } = await import('node:tls');
  assert.ok(rootCertificates.length > 0);
  const res = await request(`${bench.baseUrl}/proxy/openai/v1/models`);
  assert.equal(res.statusCode, 200, 'the test CA is trusted');
  await res.body.text();
});

test('an unreachable upstream is a 502', async (t) => {
  const bench = await startBench(t, { services: ['openai'] });
  await bench.upstream.close(); // nothing listens on its port any more
  const res = await request(`${bench.baseUrl}/proxy/openai/v1/models`);
  assert.equal(res.statusCode, 502);
  const body = (await res.body.json()) as ErrorBody;
  assert.equal(body.error.type, 'airlock_upstream');
  assert.match(body.error.message, /ECONNREFUSED/);
});

test('an upstream that never answers is a 504; one that stalls mid-body is cut off', async (t) => {
  const bench = await startBench(t, {
    services: ['openai'],
    handler: respond.hang(),
    deps: { timeouts: { headers: 300, bodyIdle: 300 } },
  });
  const res = await request(`${bench.baseUrl}/proxy/openai/v1/chat/completions`, {
    method: 'POST',
    body: '{}',
  });
  assert.equal(res.statusCode, 504);
  assert.equal(((await res.body.json()) as ErrorBody).error.type, 'airlock_upstream_timeout');
  const [first] = await bench.audit.outcomesReached(1);
  assert.equal(first?.status, 504);

  bench.upstream.setHandler((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: first\n\n'); // then silence
  });
  const stalled = await request(`${bench.baseUrl}/proxy/openai/v1/chat/completions`, {
    method: 'POST',
    body: '{}',
  });
  assert.equal(stalled.statusCode, 200);
  await assert.rejects(stalled.body.text(), 'the guest sees the stream end abnormally');
  const outcomes = await bench.audit.outcomesReached(2);
  assert.equal(outcomes[1]?.decision, 'error');
  assert.equal(outcomes[1]?.reason, 'airlock_upstream_timeout');
});
