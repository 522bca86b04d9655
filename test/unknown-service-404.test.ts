import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildProxy } from '../src/proxy/index.js';
import { createFakeAudit } from './helpers/fake-audit.js';
import { grantAll } from './helpers/policy.js';
import { builtin, captureLogs, makeCredentials } from './helpers/proxy-bench.js';

test('an unknown service or route is a 404 JSON error and nothing is forwarded', async (t) => {
  const services = [builtin('openai')];
  const audit = createFakeAudit();
  const app = buildProxy({
    sandboxId: 'sbx-404',
    policy: grantAll(services),
    services,
    credentials: makeCredentials(services),
    audit: audit.sink,
    resolve: {}, // nothing may be looked up: no request here may leave
    logger: { stream: captureLogs().stream },
  });
  t.after(() => app.close());
  for (const url of [
    '/proxy/nope/v1/models',
    '/proxy/OPENAI/v1/models',
    '/proxy/%6fpenai/v1',
    '/proxy/',
    '/',
    '/v1/models',
  ]) {
    const res = await app.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 404, url);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const body = res.json<{ error: { type: string; message: string } }>();
    assert.equal(body.error.type, 'airlock_unknown_service', url);
    assert.equal(typeof body.error.message, 'string');
  }
  assert.equal(audit.intents.length, 0);
  assert.ok(audit.denials.length >= 3, 'unknown services are recorded as denials');
});
