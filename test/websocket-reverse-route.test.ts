import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import { createBudgetLedger, endpointRates, priceTable } from '../src/budget/index.js';
import { grantAll } from './helpers/policy.js';
import { startPolicyBench } from './helpers/policy-proxy.js';
import { builtin, startBench, type Bench } from './helpers/proxy-bench.js';
import { wsStandIn } from './helpers/ws-stand-in.js';

/**
 * WebSockets on the reverse route, against a TLS stand-in (test CA, `resolve` pin): the
 * handshake is checked like a GET, the real key goes in its headers, messages are relayed
 * both ways (upstream text scrubbed), and each session is one audit row.
 */

type After = { after(fn: () => unknown): void };
type ErrorBody = { error: { type: string } };

/** The guest's URL for a path on the OpenAI base URL. */
function wsUrl(bench: Bench, path: string): string {
  return `${bench.env.OPENAI_BASE_URL!.replace(/^http/, 'ws')}${path}`;
}

/** Opens a client as a guest would (the placeholder as its key); resolves once open. */
async function openGuest(t: After, url: string, headers: Record<string, string>): Promise<WebSocket> {
  const ws = new WebSocket(url, { headers, perMessageDeflate: false });
  t.after(() => ws.terminate());
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res: IncomingMessage) =>
      reject(new Error(`status ${res.statusCode}`)),
    );
  });
  return ws;
}

/** A handshake the proxy refuses: its status and body. */
async function refusedHandshake(url: string, headers: Record<string, string>) {
  const ws = new WebSocket(url, { headers, perMessageDeflate: false });
  return new Promise<{ status: number; body: string; headers: IncomingMessage['headers'] }>(
    (resolve, reject) => {
      ws.once('open', () => reject(new Error('the handshake was accepted')));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString(),
            headers: res.headers,
          }),
        );
      });
    },
  );
}

/** The next message a client receives. */
function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) =>
    ws.once('message', (data: Buffer, isBinary) => resolve({ data, isBinary })),
  );
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
}

test('a WebSocket through the base URL: real key in the handshake, messages both ways, the echoed key scrubbed, one audit row', async (t) => {
  const bench = await startBench(t, { services: ['openai'] });
  const cred = bench.cred('openai');
  const standIn = wsStandIn(bench.upstream, cred.secret);
  const guest = await openGuest(t, wsUrl(bench, '/realtime?model=gpt-test'), {
    authorization: `Bearer ${cred.placeholder}`,
  });

  const [handshake] = standIn.handshakes;
  assert.equal(handshake?.path, '/v1/realtime?model=gpt-test');
  assert.equal(
    handshake.headers.authorization,
    `Bearer ${cred.secret}`,
    'the guest placeholder was replaced',
  );
  assert.equal(handshake.headers.host, `api.openai.com:${bench.upstream.port}`);
  assert.equal(handshake.headers['sec-websocket-extensions'], undefined, 'no compression offered upstream');

  guest.send('hello');
  assert.deepEqual(await nextMessage(guest), { data: Buffer.from('hello'), isBinary: false });
  const binary = Buffer.from([0, 1, 2, 255, ...Buffer.from(cred.secret)]);
  guest.send(binary);
  assert.deepEqual(await nextMessage(guest), { data: binary, isBinary: true }, 'binary relayed as is');
  guest.send('key?');
  const echoed = (await nextMessage(guest)).data.toString();
  assert.equal(
    (JSON.parse(echoed) as { authorization: string }).authorization,
    `Bearer ${cred.placeholder}`,
    'the echoed key is scrubbed',
  );
  assert.ok(!echoed.includes(cred.secret));
  guest.send('split key?');
  const split = (await nextMessage(guest)).data.toString();
  assert.equal(split, echoed, 'a key cut between two frames of one message is scrubbed too');

  guest.close(1000, 'done');
  assert.equal((await closed(guest)).code, 1000);
  const [outcome] = await bench.audit.outcomesReached(1);
  assert.equal(bench.audit.intents.length, 1);
  assert.deepEqual(
    { ...bench.audit.intents[0], startedAt: 0 },
    {
      sandboxId: bench.audit.intents[0]!.sandboxId,
      method: 'GET',
      host: `api.openai.com:${bench.upstream.port}`,
      path: '/v1/realtime',
      query: 'model=gpt-test',
      service: 'openai',
      credential: 'OPENAI_API_KEY',
      startedAt: 0,
    },
  );
  assert.equal(outcome?.decision, 'allowed');
  assert.equal(outcome.status, 101);
  assert.equal(outcome.bytesIn, 5 + binary.length + 4 + 10, 'message bytes the guest sent');
  assert.equal(outcome.bytesOut, 5 + binary.length + 2 * echoed.length, 'message bytes the guest got');
  assert.ok(outcome.durationMs >= 0 && outcome.ttfbMs !== undefined);
  assert.ok(!bench.logs().includes(cred.secret), 'the key is in no log line');
});

test('a guest key other than the placeholder is refused, and so is a path the endpoint rules do not allow', async (t) => {
  const bench = await startPolicyBench(t, {
    profiles: ['llm-only'],
    credentials: ['OPENAI_API_KEY'],
    allowEndpoints: ['openai:GET:/v1/realtime'],
  });
  const cred = bench.cred('openai');
  const standIn = wsStandIn(bench.upstream, cred.secret);

  const denied = await refusedHandshake(wsUrl(bench, '/files'), {
    authorization: `Bearer ${cred.placeholder}`,
  });
  assert.equal(denied.status, 403);
  assert.equal((JSON.parse(denied.body) as ErrorBody).error.type, 'airlock_policy_denied');
  const wrongKey = await refusedHandshake(wsUrl(bench, '/realtime'), {
    authorization: 'Bearer sk-my-own-key',
  });
  assert.equal(wrongKey.status, 403);
  assert.equal((JSON.parse(wrongKey.body) as ErrorBody).error.type, 'airlock_wrong_credential');
  assert.equal(standIn.handshakes.length, 0, 'nothing reached the upstream');
  assert.deepEqual(
    bench.audit.denials.map((d) => [d.method, d.path, d.status]),
    [
      ['GET', '/v1/files', 403],
      ['GET', '/v1/realtime', 403],
    ],
  );

  const guest = await openGuest(t, wsUrl(bench, '/realtime'), {});
  guest.send('key?');
  assert.equal(
    (JSON.parse((await nextMessage(guest)).data.toString()) as { authorization: string }).authorization,
    `Bearer ${cred.placeholder}`,
  );
});

test('the audit intent is committed before the upstream handshake: no row, no handshake', async (t) => {
  const bench = await startBench(t, { services: ['openai'] });
  const standIn = wsStandIn(bench.upstream, bench.cred('openai').secret);
  bench.audit.failIntents(true);
  const refused = await refusedHandshake(wsUrl(bench, '/realtime'), {});
  assert.equal(refused.status, 503);
  await new Promise((r) => setTimeout(r, 300)); // time for a connection that should not happen
  assert.equal(standIn.handshakes.length, 0);
  assert.equal(bench.upstream.connections, 0, 'not even a connection was opened');
});

test('an upstream refusing the handshake: its answer reaches the guest as HTTP, scrubbed, and is audited', async (t) => {
  const bench = await startBench(t, { services: ['openai'] });
  const cred = bench.cred('openai');
  wsStandIn(bench.upstream, cred.secret);
  const refused = await refusedHandshake(wsUrl(bench, '/refuse'), {});
  assert.equal(refused.status, 401);
  assert.equal((JSON.parse(refused.body) as { error: string }).error, `wanted Bearer ${cred.placeholder}`);
  assert.equal(refused.headers['x-wanted'], cred.placeholder);
  const [outcome] = await bench.audit.outcomesReached(1);
  assert.equal(outcome?.status, 401);
  assert.equal(outcome.bytesOut, refused.body.length);
});

test('backpressure: a burst to a guest that does not read stays in the upstream, not in the proxy', async (t) => {
  const bench = await startBench(t, { services: ['openai'] });
  const standIn = wsStandIn(bench.upstream, bench.cred('openai').secret);
  const guest = await openGuest(t, wsUrl(bench, '/realtime'), {});
  guest.pause(); // the guest stops reading
  const count = 1024;
  const size = 64 * 1024;
  // the stand-in, the proxy and this guest share one process: the stand-in sends one buffer
  // 1024 times (no copies), so what this process holds grows only by what the proxy took in
  const before = process.memoryUsage().arrayBuffers;
  guest.send(`burst ${count} ${size}`);
  await waitFor(() => standIn.sessions[0]?.bufferedAmount);
  // once the flow stops, most of the burst must still wait in the stand-in: a proxy without
  // backpressure would read it all (64 MiB) into its memory
  const grown = (await steady(() => process.memoryUsage().arrayBuffers)) - before;
  assert.ok(grown < 24 * 1024 * 1024, `the proxy holds ${grown} more bytes while the guest reads none`);

  // and the flow resumes once the guest reads
  let received = 0;
  guest.on('message', (data: Buffer) => (received += data.length));
  guest.resume();
  await waitFor(() => received === count * size || undefined, 20_000);
});

test('a session idle longer than the body idle limit is closed (1001) and audited as such', async (t) => {
  const bench = await startBench(t, { services: ['openai'], deps: { timeouts: { bodyIdle: 300 } } });
  wsStandIn(bench.upstream, bench.cred('openai').secret);
  const guest = await openGuest(t, wsUrl(bench, '/realtime'), {});
  guest.send('ping');
  await nextMessage(guest);
  const { code, reason } = await closed(guest);
  assert.deepEqual([code, reason], [1001, 'idle timeout']);
  const [outcome] = await bench.audit.outcomesReached(1);
  assert.equal(outcome?.reason, 'idle timeout');
  assert.equal(outcome.status, 101);
});

test('an upgrade other than WebSocket is refused with a reason', async (t) => {
  const bench = await startBench(t, { services: ['openai'] });
  const { request } = await import('node:http');
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(`${bench.env.OPENAI_BASE_URL}/models`, {
      headers: { connection: 'Upgrade', upgrade: 'h2c' },
    });
    req.on('response', (res) => resolve(res.statusCode ?? 0));
    req.on('error', reject);
    req.end();
  });
  assert.equal(status, 400);
  assert.equal(bench.upstream.requests.length, 0);
});

/** Polls `probe` until it returns a value (every 20 ms, up to `ms`). */
async function waitFor<T>(probe: () => T | undefined, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The value of `read` once it has not changed for 300 ms. */
async function steady(read: () => number): Promise<number> {
  let last = read();
  let since = Date.now();
  while (Date.now() - since < 300) {
    await new Promise((r) => setTimeout(r, 50));
    const now = read();
    if (now !== last) [last, since] = [now, Date.now()];
  }
  return last;
}

test('a session outlives the deadline for sending a whole request (timeouts.clientRequest)', async (t) => {
  const bench = await startBench(t, {
    services: ['openai'],
    deps: { timeouts: { clientRequest: 300, clientHeaders: 300 } },
  });
  wsStandIn(bench.upstream, bench.cred('openai').secret);
  const guest = await openGuest(t, wsUrl(bench, '/realtime'), {});
  await new Promise((r) => setTimeout(r, 1000));
  guest.send('still here');
  assert.equal((await nextMessage(guest)).data.toString(), 'still here');
});

test(
  'closing the proxy (the sandbox going away) ends open sessions at once, each on record',
  { timeout: 10_000 },
  async (t) => {
    const bench = await startBench(t, { services: ['openai'] });
    const standIn = wsStandIn(bench.upstream, bench.cred('openai').secret);
    const guest = await openGuest(t, wsUrl(bench, '/realtime'), {});
    const guestClosed = closed(guest);
    const started = Date.now();
    await bench.proxy.close();
    assert.equal((await guestClosed).code, 1006, 'the guest connection was cut');
    const [outcome] = await bench.audit.outcomesReached(1);
    assert.equal(outcome?.status, 101);
    await waitFor(() => standIn.sessions[0]!.readyState === standIn.sessions[0]!.CLOSED || undefined);
    assert.ok(Date.now() - started < 2000, 'no close handshake was waited for');
  },
);

test('an upstream whose certificate is not trusted gets no handshake: 502 airlock_upstream_tls, on record', async (t) => {
  const bench = await startBench(t, { services: ['openai'], upstreamCa: [] });
  const standIn = wsStandIn(bench.upstream, bench.cred('openai').secret);
  const refused = await refusedHandshake(wsUrl(bench, '/realtime'), {});
  assert.equal(refused.status, 502);
  assert.equal((JSON.parse(refused.body) as ErrorBody).error.type, 'airlock_upstream_tls');
  assert.equal(standIn.handshakes.length, 0);
  const [outcome] = await bench.audit.outcomesReached(1);
  assert.deepEqual(
    [outcome?.decision, outcome?.status, outcome?.reason],
    ['error', 502, 'airlock_upstream_tls'],
  );
});

test('a rated endpoint rule counts each WebSocket session as one request: past it, 429 with Retry-After', async (t) => {
  const policy = grantAll([builtin('openai')], { allowEndpoints: ['openai:GET:/v1/realtime 2/1m'] });
  const ledger = createBudgetLedger({
    owner: 'agent',
    sandboxId: 'sbx-agent',
    rules: endpointRates(policy),
    prices: priceTable(),
    persist: () => {},
  });
  const bench = await startBench(t, { services: ['openai'], deps: { policy, budget: ledger } });
  const standIn = wsStandIn(bench.upstream, bench.cred('openai').secret);
  for (let i = 0; i < 2; i++) {
    const guest = await openGuest(t, wsUrl(bench, '/realtime'), {});
    guest.close();
    await closed(guest);
  }
  const third = await refusedHandshake(wsUrl(bench, '/realtime'), {});
  assert.equal(third.status, 429);
  assert.equal((JSON.parse(third.body) as ErrorBody).error.type, 'airlock_budget_exhausted');
  assert.ok(Number(third.headers['retry-after']) > 0);
  assert.equal(standIn.handshakes.length, 2);
});
