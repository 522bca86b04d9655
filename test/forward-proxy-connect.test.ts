import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { connectThrough, startForwardBench } from './helpers/forward-bench.js';

type ErrorBody = { error: { type: string; message: string } };
const bodyOf = (head: string) => JSON.parse(head.slice(head.indexOf('\r\n\r\n') + 4)) as ErrorBody;

test('CONNECT to an allowed host opens an opaque tunnel to the checked address', async (t) => {
  const bench = await startForwardBench(t);
  const { status, socket } = await connectThrough(bench.port, 'echo.test:443');
  assert.equal(status, 200);
  socket.write('ping through the tunnel');
  const [echoed] = (await once(socket, 'data')) as [Buffer];
  assert.equal(echoed.toString(), 'ping through the tunnel');
  socket.destroy();
  assert.deepEqual(bench.dials, [{ ip: '127.0.0.2', port: 443 }]);
  const [intent] = bench.audit.intents;
  assert.equal(intent?.method, 'CONNECT');
  assert.equal(intent?.host, 'echo.test:443');
  const [outcome] = await bench.audit.outcomesReached(1);
  assert.equal(outcome?.bytesIn, 'ping through the tunnel'.length);
  assert.equal(outcome?.decision, 'allowed', 'a guest hanging up ends a tunnel normally');
  assert.equal(outcome?.reason, undefined);
});

test('CONNECT refusals: not allowed, credential host, bad Host, bad target; nothing is dialled', async (t) => {
  const bench = await startForwardBench(t);
  const cases: [target: string, host: string | null, status: number, type: string][] = [
    ['denied.test:443', 'denied.test:443', 403, 'airlock_policy_denied'],
    ['allowed.test:8443', null, 403, 'airlock_policy_denied'],
    ['api.openai.com:443', 'api.openai.com:443', 403, 'airlock_use_base_url'],
    ['API.OpenAI.com.:443', null, 403, 'airlock_use_base_url'],
    ['allowed.test:443', 'denied.test:443', 400, 'airlock_bad_request'],
    ['allowed.test:443', 'allowed.test:8443', 400, 'airlock_bad_request'],
    ['allowed.test', null, 400, 'airlock_bad_request'],
    ['user@allowed.test:443', null, 400, 'airlock_bad_request'],
    ['allowed.test:99999', null, 400, 'airlock_bad_request'],
    ['metadata.test:443', null, 403, 'airlock_forbidden_address'],
  ];
  for (const [target, host, status, type] of cases) {
    const res = await connectThrough(bench.port, target, host);
    assert.equal(res.status, status, `${target} (Host: ${host})`);
    const body = bodyOf(res.head);
    assert.equal(body.error.type, type, `${target} (Host: ${host})`);
    if (type === 'airlock_use_base_url') assert.match(body.error.message, /OPENAI_BASE_URL/);
  }
  assert.deepEqual(bench.dials, [], 'no refused CONNECT reached the dialer');
  assert.equal(bench.audit.denials.length, cases.length);
});
