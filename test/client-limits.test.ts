import assert from 'node:assert/strict';
import { once } from 'node:events';
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

/** A connection to the proxy; `answer` resolves with the first response bytes to a request, or '' once it closes without any. */
async function guestConnection(port: number) {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.on('error', () => {});
  const answer = () =>
    new Promise<string>((resolve) => {
      socket.once('data', (c: Buffer) => resolve(c.toString()));
      socket.once('close', () => resolve(''));
      socket.write('GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n');
    });
  return { socket, answer };
}

test('a guest holding limits.connections has a further connection closed at once, and another once one ends', async (t) => {
  // each connection is a descriptor of the engine that serves every sandbox
  const bench = await startBench(t, { services: ['openai'], deps: { limits: { connections: 3 } } });
  const port = bench.proxy.address.port;
  const held = await Promise.all([1, 2, 3].map(() => guestConnection(port)));
  for (const c of held)
    assert.match(await c.answer(), /^HTTP\/1\.1 404/, 'control: the first three are served');
  const extra = await guestConnection(port);
  assert.equal(await extra.answer(), '', 'the fourth is closed without an answer');
  const denials = () => bench.audit.denials.filter((d) => d.method === '-');
  for (let i = 0; i < 50 && denials().length === 0; i++)
    await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(
    denials().map((d) => [d.status, d.reason]),
    [[429, 'airlock_too_many_connections']],
    'and on record as a refusal',
  );
  held[0]!.socket.destroy();
  let answered = '';
  for (let i = 0; i < 50 && answered === ''; i++) {
    answered = await (await guestConnection(port)).answer();
    if (answered === '') await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.match(answered, /^HTTP\/1\.1 404/, 'once one ended, a new one is served');
  for (const c of held) c.socket.destroy();
});
