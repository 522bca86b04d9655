import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { connect as netConnect } from 'node:net';
import { test, type TestContext } from 'node:test';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { WebSocket } from 'ws';
import { createSandboxCa, type SandboxCa } from '../src/proxy/intercept/sandbox-ca.js';
import { createFakeUpstream } from './helpers/fake-upstream.js';
import { startPolicyBench } from './helpers/policy-proxy.js';
import { startBench, type Bench } from './helpers/proxy-bench.js';
import { needsRoot } from './helpers/sandbox-bench.js';
import { createTestCa } from './helpers/test-ca.js';
import { wsStandIn } from './helpers/ws-stand-in.js';

/**
 * A WebSocket inside an intercepted tunnel, as a tool that ignores base URLs opens it: CONNECT
 * api.openai.com:443, TLS with the sandbox CA's leaf, then the upgrade. It gets the reverse
 * route's handling: rules, the real key in the handshake, scrubbed text, one audit row.
 * The stand-in listens on 127.0.0.78:443 (the proxy dials the CONNECT target's port): root.
 */

const STAND_IN = '127.0.0.78';

/** A proxy that intercepts credential hosts, in front of a WebSocket stand-in for api.openai.com. */
async function interceptingBench(
  t: TestContext,
  allowEndpoints?: string[],
): Promise<{ bench: Bench; ca: SandboxCa }> {
  const testCa = createTestCa(t);
  const upstream = await createFakeUpstream({
    ca: testCa,
    hostnames: ['api.openai.com'],
    listen: { host: STAND_IN, port: 443 },
    t,
  });
  const ca = await createSandboxCa({ label: 'ws-in-tunnel' });
  const options = {
    upstream,
    ca: testCa,
    extraResolve: { 'api.openai.com': STAND_IN },
    deps: { intercept: { ca } },
  };
  const bench = allowEndpoints
    ? await startPolicyBench(t, { credentials: ['OPENAI_API_KEY'], allowEndpoints }, options)
    : await startBench(t, { services: ['openai'], ...options });
  return { bench, ca };
}

/** CONNECT through the proxy, then TLS to api.openai.com trusting only the sandbox CA. */
async function intercepted(t: TestContext, bench: Bench, ca: SandboxCa): Promise<TLSSocket> {
  const raw = netConnect({ host: '127.0.0.1', port: bench.proxy.address.port });
  t.after(() => raw.destroy());
  await once(raw, 'connect');
  raw.write('CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n');
  const [head] = (await once(raw, 'data')) as [Buffer];
  assert.match(head.toString(), /^HTTP\/1\.1 200/);
  const tls = tlsConnect({ socket: raw, servername: 'api.openai.com', ca: ca.certPem });
  await once(tls, 'secureConnect');
  return tls;
}

/** Opens a WebSocket over `socket`; resolves with it once open, or with the refusal's status. */
function openOver(socket: TLSSocket, path: string, key: string): Promise<WebSocket | number> {
  const ws = new WebSocket(`wss://api.openai.com${path}`, {
    headers: { authorization: `Bearer ${key}` },
    perMessageDeflate: false,
    createConnection: () => socket,
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res: IncomingMessage) => resolve(res.statusCode ?? 0));
  });
}

test(
  'a WebSocket inside an intercepted tunnel: the key injected, text scrubbed, the session audited',
  { skip: needsRoot },
  async (t) => {
    const { bench, ca } = await interceptingBench(t);
    const cred = bench.cred('openai');
    const standIn = wsStandIn(bench.upstream, cred.secret);
    const ws = await openOver(await intercepted(t, bench, ca), '/v1/realtime?model=m', cred.placeholder);
    assert.ok(ws instanceof WebSocket, typeof ws === 'number' ? `the upgrade was refused: ${ws}` : 'open');
    t.after(() => ws.terminate());
    assert.equal(standIn.handshakes[0]?.headers.authorization, `Bearer ${cred.secret}`);
    assert.equal(standIn.handshakes[0]?.path, '/v1/realtime?model=m');
    ws.send('key?');
    const [echoed] = (await once(ws, 'message')) as [Buffer];
    assert.ok(!echoed.toString().includes(cred.secret), 'the echoed key is scrubbed');
    assert.match(echoed.toString(), new RegExp(cred.placeholder));
    ws.close(1000);
    await once(ws, 'close');
    const [outcome] = await bench.audit.outcomesReached(1);
    assert.equal(outcome!.status, 101);
    const intent = bench.audit.intents.find((i) => i.path === '/v1/realtime');
    assert.equal(intent?.method, 'GET');
    assert.equal(intent?.service, 'openai');
  },
);

test(
  'an upgrade inside a tunnel is checked by the endpoint rules: a path they do not allow is refused',
  { skip: needsRoot },
  async (t) => {
    const { bench, ca } = await interceptingBench(t, ['openai:GET:/v1/models']);
    const cred = bench.cred('openai');
    const standIn = wsStandIn(bench.upstream, cred.secret);
    const status = await openOver(await intercepted(t, bench, ca), '/v1/realtime', cred.placeholder);
    assert.equal(status, 403);
    assert.equal(standIn.handshakes.length, 0, 'nothing reached the upstream');
  },
);
