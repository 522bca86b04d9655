import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { startBench } from './helpers/proxy-bench.js';
import { rawHttp } from './helpers/raw-http.js';

test('an oversized header block is refused before anything is forwarded', async (t) => {
  const bench = await startBench(t, { services: ['openai'] });
  const res = await rawHttp(
    bench.proxy.address.port,
    `GET /proxy/openai/v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\nx-big: ${'a'.repeat(20_000)}`,
  );
  assert.equal(res.status, 431);
  assert.equal(bench.upstream.requests.length, 0);
});

test('a slowloris client that never finishes its headers is disconnected', async (t) => {
  const bench = await startBench(t, { services: ['openai'], deps: { timeouts: { clientHeaders: 400 } } });
  const began = Date.now();
  const closed = await new Promise<string>((resolve) => {
    const socket = connect(bench.proxy.address.port, '127.0.0.1');
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString()));
    socket.on('close', () => resolve(text));
    socket.on('error', () => {});
    socket.write('GET /proxy/openai/v1/models HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => socket.writable && socket.write('x-a: b\r\n'), 100);
    socket.on('close', () => clearInterval(drip));
  });
  assert.ok(Date.now() - began < 5_000, 'closed within a few check intervals');
  assert.match(closed, /^HTTP\/1\.1 408/);
  assert.equal(bench.upstream.requests.length, 0);
});
