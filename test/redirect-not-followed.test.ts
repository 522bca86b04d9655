import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { createFakeUpstream, respond } from './helpers/fake-upstream.js';
import { startBench } from './helpers/proxy-bench.js';
import { createTestCa } from './helpers/test-ca.js';

test('a redirect to another origin goes back to the guest; the other origin sees nothing', async (t) => {
  const ca = createTestCa(t);
  const other = await createFakeUpstream({ ca, hostnames: ['evil.test'], t });
  // evil.test resolves (to loopback) so that a proxy that did follow would reach `other`, not DNS
  const bench = await startBench(t, { ca, services: ['openai'], extraResolve: { 'evil.test': '127.0.0.1' } });
  const cred = bench.credentials.openai!;
  for (const status of [301, 302, 303, 307, 308]) {
    const location = `https://evil.test:${other.port}/steal?from=${status}`;
    bench.upstream.setHandler(respond.redirect(status, location));
    const res = await request(`${bench.baseUrl}/proxy/openai/v1/files`, {
      method: 'POST',
      body: 'payload',
      headers: { authorization: `Bearer ${cred.placeholder}` },
    });
    assert.equal(res.statusCode, status);
    assert.equal(res.headers.location, location);
    assert.equal(await res.body.text(), `see ${location}`);
  }
  assert.equal(bench.upstream.requests.length, 5);
  assert.equal(other.requests.length, 0, 'the other origin got no request');
  assert.equal(other.connections, 0, 'the other origin got no connection at all');
});
