import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { request } from 'undici';
import { createProxyLogger } from '../src/proxy/core/logger.js';
import { respond } from './helpers/fake-upstream.js';
import { canarySecret, startBench } from './helpers/proxy-bench.js';

test('canary secrets never appear in logs, error bodies, responses, argv or the guest env', async (t) => {
  const bench = await startBench(t, { handler: respond.echo(), deps: { timeouts: { headers: 300 } } });
  const seenByGuest: string[] = [];
  const call = async (path: string, init: Parameters<typeof request>[1] = {}) => {
    const res = await request(`${bench.baseUrl}${path}`, init);
    seenByGuest.push(JSON.stringify(res.headers), await res.body.text());
    return res.statusCode;
  };
  for (const s of bench.services) {
    assert.equal(await call(`/proxy/${s.name}/echo?x=1`, { headers: { authorization: `Bearer ${bench.credentials[s.name]!.placeholder}` } }), 200); // prettier-ignore
  }
  assert.equal(
    await call('/proxy/openai/v1/models', { headers: { authorization: 'Bearer sk-foreign' } }),
    403,
  );
  assert.equal(await call('/proxy/nope/x'), 404);
  bench.upstream.setHandler(respond.json(401, { error: 'bad key' }));
  assert.equal(await call('/proxy/openai/v1/models'), 401);
  bench.upstream.setHandler(respond.hang());
  assert.equal(await call('/proxy/openai/v1/models'), 504);
  bench.audit.failIntents(true);
  assert.equal(await call('/proxy/openai/v1/models'), 503);

  const places: Record<string, string> = {
    logs: bench.logs(),
    'what the guest received': seenByGuest.join('\n'),
    'guest environment': JSON.stringify(bench.env),
    'audit records': JSON.stringify([bench.audit.intents, bench.audit.outcomes, bench.audit.denials]),
    argv: JSON.stringify([process.argv, process.execArgv]),
  };
  assert.ok(places.logs!.includes('"service":"openai"'), 'the logs were captured');
  for (const secret of bench.secrets) {
    for (const [where, text] of Object.entries(places))
      assert.ok(!text.includes(secret), `secret found in ${where}`);
  }
});

test('the logger redacts credential headers even if something logs them', () => {
  const secret = canarySecret('logger');
  const stream = new PassThrough();
  let out = '';
  stream.on('data', (c: Buffer) => (out += c.toString()));
  const logger = createProxyLogger({ stream });
  logger.info({
    req: { headers: { authorization: `Bearer ${secret}`, 'x-api-key': secret, 'x-goog-api-key': secret } },
  });
  logger.info({ headers: { cookie: secret, 'proxy-authorization': secret } });
  assert.ok(out.includes('[redacted]'));
  assert.ok(!out.includes(secret));
});
