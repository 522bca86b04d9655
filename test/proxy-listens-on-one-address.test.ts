import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { isAirlockError } from '../src/errors.js';
import { startProxy } from '../src/proxy/index.js';
import type { ProxyDeps } from '../src/proxy/types.js';
import { createFakeAudit } from './helpers/fake-audit.js';
import { grantAll } from './helpers/policy.js';
import { captureLogs } from './helpers/proxy-bench.js';

const deps = (): ProxyDeps => ({
  sandboxId: 'sbx-listen',
  policy: grantAll([]),
  services: [],
  credentials: {},
  audit: createFakeAudit().sink,
  logger: { stream: captureLogs().stream },
});

test('wildcard and non-IP listen addresses are refused', async () => {
  for (const host of ['0.0.0.0', '::', 'localhost', '']) {
    await assert.rejects(startProxy(deps(), { host, port: 0 }), (err) => {
      assert.ok(isAirlockError(err));
      assert.equal(err.code, 'AIRLOCK_ERR_PROXY_LISTEN');
      return true;
    });
  }
});

test('the proxy answers on its own address only', async (t) => {
  const proxy = await startProxy(deps(), { host: '127.0.0.1', port: 0 });
  t.after(() => proxy.close());
  assert.deepEqual(proxy.address.host, '127.0.0.1');
  const reach = (host: string) =>
    new Promise<boolean>((resolve) => {
      const socket = connect(proxy.address.port, host);
      socket.on('connect', () => (socket.destroy(), resolve(true)));
      socket.on('error', () => resolve(false));
    });
  assert.equal(await reach('127.0.0.1'), true);
  assert.equal(await reach('127.0.0.2'), false, 'another loopback address is not served');
});
