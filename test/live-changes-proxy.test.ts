import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { createBudgetLedger, parseBudget, priceTable } from '../src/budget/index.js';
import { startBench } from './helpers/proxy-bench.js';
import { grantAll } from './helpers/policy.js';

test('a running proxy takes a new policy and credentials for the next request', async (t) => {
  const bench = await startBench(t, { services: ['openai', 'github'] });
  const get = async (service: string, path: string) =>
    (
      await request(`${bench.baseUrl}/proxy/${service}${path}`, {
        headers: { authorization: `Bearer ${bench.cred(service).placeholder}` },
      })
    ).statusCode;
  assert.equal(await get('openai', '/v1/models'), 200);

  const services = bench.services;
  bench.proxy.update({
    policy: grantAll(services, { allowEndpoints: ['openai:POST:/v1/chat/completions'] }),
    services,
    credentials: bench.credentials,
  });
  assert.equal(await get('openai', '/v1/models'), 403, 'the new rule holds');
  assert.equal(await get('github', '/user'), 200);

  // revoke openai: its requests are refused and its key is never sent again
  const github = services.filter((s) => s.name === 'github');
  bench.proxy.update({
    policy: grantAll(github),
    services: github,
    credentials: { github: bench.cred('github') },
  });
  const before = bench.upstream.requests.length;
  assert.notEqual(await get('openai', '/v1/models'), 200);
  assert.equal(bench.upstream.requests.length, before, 'nothing went upstream');
  assert.equal(await get('github', '/user'), 200);
});

test('new budget rules keep the count of a budget kept, and start others afresh', () => {
  const ledger = createBudgetLedger({
    owner: 'x',
    sandboxId: 'x',
    rules: [parseBudget('tokens=1000', 'x')],
    prices: priceTable(),
  });
  const r = ledger.reserve('OPENAI_API_KEY', { maxOutput: 100 });
  assert.equal(typeof r, 'object');
  ledger.setRules([parseBudget('tokens=500', 'x'), parseBudget('output=50/1h', 'x')]);
  if (!('reason' in r)) ledger.settle(r, { inputTokens: 200, outputTokens: 100 }); // in flight across the change
  assert.deepEqual(
    ledger.view().map((b) => [b.budget, b.used, b.reserved]),
    [
      ['tokens=500', 300, 0],
      ['output=50/1h', 0, 0],
    ],
  );
});
