import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../src/config/load-config.js';
import { startProxy } from '../src/proxy/index.js';
import { createFakeAudit } from './helpers/fake-audit.js';
import { createFakeUpstream } from './helpers/fake-upstream.js';
import { builtin, captureLogs, makeCredentials, onPort, resolveAll } from './helpers/proxy-bench.js';
import { grantAll } from './helpers/policy.js';
import { createTestCa } from './helpers/test-ca.js';

test('a custom service’s caFile is trusted for that service’s hosts only', async (t) => {
  const ca = createTestCa(t);
  const upstream = await createFakeUpstream({ ca, hostnames: ['llm.corp.test', 'api.openai.com'], t });
  const { catalogue } = parseConfig({
    services: [
      {
        name: 'internal',
        envVar: 'INTERNAL_KEY',
        upstream: 'https://llm.corp.test',
        carrier: { kind: 'header', header: 'authorization', template: 'Bearer {secret}' },
        caFile: ca.caFile,
      },
    ],
  });
  const internal = onPort(catalogue.byName('internal')!, upstream.port);
  const openai = onPort(builtin('openai'), upstream.port);
  const services = [internal, openai];
  const credentials = makeCredentials(services);
  const proxy = await startProxy(
    {
      sandboxId: 'sbx-ca',
      policy: grantAll(services),
      services,
      credentials,
      audit: createFakeAudit().sink,
      resolve: resolveAll(services),
      hostCa: { 'llm.corp.test': [ca.caPem] },
      logger: { level: 'silent', stream: captureLogs().stream },
    },
    { host: '127.0.0.1', port: 0 },
  );
  t.after(() => proxy.close());
  const base = `http://127.0.0.1:${proxy.address.port}/proxy`;
  const own = await fetch(`${base}/internal/v1/models`);
  assert.equal(own.status, 200, 'the service’s own CA verifies its upstream');
  const other = await fetch(`${base}/openai/v1/models`);
  assert.equal(other.status, 502, 'the same CA is not trusted for another service');
  assert.match(await other.text(), /airlock_upstream_tls|certificate/i);
  assert.deepEqual(
    upstream.requests.map((r) => r.headers.host),
    [`llm.corp.test:${upstream.port}`],
  );
});
