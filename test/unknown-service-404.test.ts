import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from 'undici';
import { startProxy } from '../src/proxy/index.js';
import { createFakeAudit } from './helpers/fake-audit.js';
import { grantAll } from './helpers/policy.js';
import { builtin, captureLogs, makeCredentials } from './helpers/proxy-bench.js';

test('an unknown service or route is a 404 JSON error and nothing is forwarded', async (t) => {
  const services = [builtin('openai')];
  const audit = createFakeAudit();
  const proxy = await startProxy(
    {
      sandboxId: 'sbx-404',
      policy: grantAll(services),
      services,
      credentials: makeCredentials(services),
      audit: audit.sink,
      resolve: {}, // nothing may be looked up: no request here may leave
      logger: { stream: captureLogs().stream },
    },
    { host: '127.0.0.1', port: 0 },
  );
  t.after(() => proxy.close());
  // a Client sends each path verbatim (no URL normalisation of %6f or a trailing slash)
  const client = new Client(`http://127.0.0.1:${proxy.address.port}`);
  t.after(() => client.close());
  for (const url of [
    '/proxy/nope/v1/models',
    '/proxy/OPENAI/v1/models',
    '/proxy/%6fpenai/v1',
    '/proxy/',
    '/',
    '/v1/models',
  ]) {
    const res = await client.request({ method: 'GET', path: url });
    assert.equal(res.statusCode, 404, url);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const body = (await res.body.json()) as { error: { type: string; message: string } };
    assert.equal(body.error.type, 'airlock_unknown_service', url);
    assert.equal(typeof body.error.message, 'string');
  }
  assert.equal(audit.intents.length, 0);
  assert.ok(audit.denials.length >= 3, 'unknown services are recorded as denials');
});
