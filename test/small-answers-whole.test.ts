import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { SMALL_BODY_BYTES } from '../src/proxy/core/exchange.js';
import type { UpstreamHandler } from './helpers/fake-upstream.js';
import { startBench } from './helpers/proxy-bench.js';

/** The key the upstream received, echoed back in a body of known length. */
const echoKey: UpstreamHandler = (req, res) => {
  const body = `you sent ${String(req.headers.authorization)}`;
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
  res.end(body);
};

test('a small answer of known length reaches the guest whole, with its exact (scrubbed) length', async (t) => {
  const bench = await startBench(t, { services: ['openai'], handler: echoKey });
  const { secret, placeholder } = bench.cred('openai');
  const res = await request(`${bench.baseUrl}/proxy/openai/v1/x`, {
    headers: { authorization: `Bearer ${placeholder}` },
  });
  const body = await res.body.text();
  assert.equal(body, `you sent Bearer ${placeholder}`, 'the echoed key is the placeholder');
  assert.notEqual(placeholder.length, secret.length, 'control: scrubbing changes the length');
  assert.equal(res.headers['content-length'], String(Buffer.byteLength(body)));
  assert.equal(res.headers['transfer-encoding'], undefined, 'no chunked framing');
  const [outcome] = await bench.audit.outcomesReached(1);
  assert.equal(outcome!.bytesOut, Buffer.byteLength(body), 'the audit counts what the guest got');
});

test('a large answer of known length is streamed, not held', async (t) => {
  const size = SMALL_BODY_BYTES + 1;
  const bench = await startBench(t, {
    services: ['openai'],
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(size) });
      res.end('x'.repeat(size));
    },
  });
  const res = await request(`${bench.baseUrl}/proxy/openai/v1/x`, {
    headers: { authorization: `Bearer ${bench.cred('openai').placeholder}` },
  });
  assert.equal((await res.body.text()).length, size);
  assert.equal(res.headers['transfer-encoding'], 'chunked');
});

test('a small answer the upstream cuts short is a 502 from airlock, not a truncated 200', async (t) => {
  const bench = await startBench(t, {
    services: ['openai'],
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"partial":');
      setTimeout(() => res.socket?.destroy(), 20);
    },
  });
  const res = await request(`${bench.baseUrl}/proxy/openai/v1/x`, {
    headers: { authorization: `Bearer ${bench.cred('openai').placeholder}` },
  });
  const body = await res.body.text();
  assert.equal(res.statusCode, 502, body);
  assert.match(body, /airlock_upstream/);
  const [outcome] = await bench.audit.outcomesReached(1);
  assert.equal(outcome!.decision, 'error');
});
