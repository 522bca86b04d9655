import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import type { AuthorizeRequest } from '../src/proxy/types.js';
import { startBench } from './helpers/proxy-bench.js';

test('a policy refusal is answered as the policy says, recorded, and never forwarded', async (t) => {
  const asked: AuthorizeRequest[] = [];
  const bench = await startBench(t, {
    services: ['openai'],
    deps: {
      authorize(req) {
        asked.push(req);
        if (req.method === 'POST' && req.rawTarget === '/v1/chat/completions') {
          return { allow: true, path: '/v1/chat/completions' };
        }
        return {
          allow: false,
          status: 403,
          type: 'airlock_policy_denied',
          message: `openai: ${req.method} not allowed by rules`,
        };
      },
    },
  });
  const denied = await request(`${bench.baseUrl}/proxy/openai/v1/models?x=1`);
  assert.equal(denied.statusCode, 403);
  assert.deepEqual(await denied.body.json(), {
    error: { type: 'airlock_policy_denied', message: 'openai: GET not allowed by rules' },
  });
  assert.equal(asked[0]?.rawTarget, '/v1/models?x=1', 'the policy sees the raw target');
  assert.equal(asked[0]?.service, 'openai');
  assert.equal(bench.upstream.requests.length, 0);
  assert.equal(bench.audit.denials[0]?.reason, 'airlock_policy_denied');
  assert.equal(bench.audit.denials[0]?.host, `api.openai.com:${bench.upstream.port}`);

  const allowed = await request(`${bench.baseUrl}/proxy/openai/v1/chat/completions`, {
    method: 'POST',
    body: '{}',
  });
  assert.equal(allowed.statusCode, 200);
  await allowed.body.text();
  assert.equal(bench.upstream.requests.length, 1);
});

test('the proxy forwards exactly the path the policy returned, never re-parsed', async (t) => {
  const bench = await startBench(t, {
    services: ['openai'],
    deps: { authorize: () => ({ allow: true, path: '/v1/a/%2e%2e/b?q=%41' }) },
  });
  const res = await request(`${bench.baseUrl}/proxy/openai/anything`);
  assert.equal(res.statusCode, 200);
  await res.body.text();
  assert.equal(bench.upstream.requests[0]?.path, '/v1/a/%2e%2e/b?q=%41');
});
