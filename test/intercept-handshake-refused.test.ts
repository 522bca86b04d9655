import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { createSandboxCa } from '../src/proxy/intercept/sandbox-ca.js';
import { startBench, type Bench } from './helpers/proxy-bench.js';

/** A CONNECT to api.openai.com:443 through the proxy, answered 200. */
async function tunnel(t: TestContext, bench: Bench): Promise<Socket> {
  const raw = netConnect({ host: '127.0.0.1', port: bench.proxy.address.port });
  t.after(() => raw.destroy());
  await once(raw, 'connect');
  raw.write('CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n');
  const [head] = (await once(raw, 'data')) as [Buffer];
  assert.match(head.toString(), /^HTTP\/1\.1 200/);
  return raw;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

test('a client that does not trust the sandbox CA fails closed, and the attempt is on record', async (t) => {
  const ca = await createSandboxCa({ label: 'handshake-refused' });
  const bench = await startBench(t, { services: ['openai'], deps: { intercept: { ca } } });

  // control: a client that trusts the sandbox CA and hangs up after its handshake is no refusal
  const trusting = tlsConnect({
    socket: await tunnel(t, bench),
    servername: 'api.openai.com',
    ca: ca.certPem,
  });
  await once(trusting, 'secureConnect');
  trusting.end();
  await settle();
  assert.equal(bench.audit.denials.length, 0, 'no refusal recorded');

  // the system roots only, as a tool with its own trust store (or a pinned key) has
  const tls = tlsConnect({ socket: await tunnel(t, bench), servername: 'api.openai.com' });
  const [err] = (await once(tls, 'error')) as [Error & { code?: string }];
  assert.equal(err.code, 'SELF_SIGNED_CERT_IN_CHAIN', 'the guest refused the leaf');
  await settle();
  const [denied] = bench.audit.denials;
  assert.equal(denied?.method, 'CONNECT');
  assert.equal(denied.host, 'api.openai.com:443');
  assert.equal(denied.service, 'openai');
  assert.match(denied.reason, /airlock_bad_request/);
  assert.equal(bench.upstream.requests.length, 0, 'nothing went upstream');
});
