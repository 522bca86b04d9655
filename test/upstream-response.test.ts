import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LazyAgent } from '../src/proxy/core/undici-parts.js';
import { requestUpstream } from '../src/proxy/core/upstream-response.js';

/*
 * The proxy's own undici handler (src/proxy/core/upstream-response.ts): what undici's
 * request() gave for free must still hold — a slow reader pauses the upstream, a body dropped
 * before its end (or a guest gone) aborts the upstream request, informational answers are
 * skipped, repeated headers stay arrays.
 */

const CHUNK = Buffer.alloc(64 * 1024, 'x');

/** A loopback server whose handler gets each response; resolves with its origin and a closer. */
async function serve(handle: (res: ServerResponse) => void) {
  const server = createServer((_req, res) => handle(res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const agent = new LazyAgent({});
  return {
    origin,
    agent,
    async close() {
      server.closeAllConnections();
      await agent.close();
      server.close();
    },
  };
}

/** A GET of `/` through the server's agent, with `abort` as the guest's going away. */
const get = (s: { agent: LazyAgent; origin: string }, abort = new EventEmitter()) =>
  requestUpstream(s.agent, { origin: s.origin, path: '/', method: 'GET' }, abort);

/** Polls `done` every 20 ms for up to a second. */
async function eventually(done: () => boolean): Promise<void> {
  for (let i = 0; i < 50 && !done(); i++) await sleep(20);
}

/** Writes chunks as fast as the connection takes them, counting the bytes it could hand over. */
function firehose(res: ServerResponse, written: { bytes: number; closed: boolean }) {
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  res.on('close', () => (written.closed = true));
  const pump = () => {
    while (!written.closed && written.bytes < 200 * 1024 * 1024) {
      written.bytes += CHUNK.length;
      if (!res.write(CHUNK)) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}

test("a request before undici's Agent has loaded waits for it; one after close is refused", async () => {
  // the first test of this process: the Agent is not loaded yet (buildProxy loads it after its turn)
  const s = await serve((res) => res.end('first'));
  const answer = await get(s);
  assert.equal(answer.statusCode, 200);
  const chunks: Buffer[] = [];
  for await (const c of answer.body) chunks.push(c as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), 'first');
  await s.close();
  await assert.rejects(get(s), (e: { code?: string }) => e.code === 'UND_ERR_CLOSED');
});

test('a body nobody reads pauses the upstream: the server can hand over only what the buffers hold', async () => {
  const written = { bytes: 0, closed: false };
  const s = await serve((res) => firehose(res, written));
  try {
    const response = await get(s);
    assert.equal(response.statusCode, 200);
    await sleep(400);
    const unread = written.bytes;
    assert.ok(unread > 0, 'control: the server wrote something');
    // socket buffers plus the body's 64 KiB: a few MiB at most, not the 200 MiB on offer
    assert.ok(
      unread < 16 * 1024 * 1024,
      `the upstream was not paused: ${unread} bytes written to an unread body`,
    );
    // reading resumes it
    let read = 0;
    response.body.on('data', (c: Buffer) => (read += c.length));
    await sleep(300);
    assert.ok(written.bytes > unread, 'reading the body resumes the upstream');
    response.body.destroy();
    assert.ok(read > 0);
  } finally {
    await s.close();
  }
});

test('a body destroyed before its end aborts the upstream request', async () => {
  const written = { bytes: 0, closed: false };
  const s = await serve((res) => firehose(res, written));
  try {
    const response = await get(s);
    response.body.destroy();
    await eventually(() => written.closed);
    assert.equal(written.closed, true, 'the upstream connection was closed');
  } finally {
    await s.close();
  }
});

test('the guest going away aborts the request, before the answer and after its head', async () => {
  const before = { bytes: 0, closed: false };
  let headSent = false;
  const s = await serve((res) => {
    res.on('close', () => (before.closed = true));
    headSent = true; // answers nothing: the request waits for its head
  });
  try {
    const abort = new EventEmitter();
    const pending = get(s, abort);
    await eventually(() => headSent);
    abort.emit('abort');
    await assert.rejects(pending, { code: 'UND_ERR_ABORTED' });
    await eventually(() => before.closed);
    assert.equal(before.closed, true, 'the upstream saw the request go');
  } finally {
    await s.close();
  }

  const after = { bytes: 0, closed: false };
  const t = await serve((res) => firehose(res, after));
  try {
    const abort = new EventEmitter();
    const response = await get(t, abort);
    const failed = once(response.body, 'error');
    abort.emit('abort');
    const [err] = (await failed) as [{ code?: string }];
    assert.equal(err.code, 'UND_ERR_ABORTED');
    await eventually(() => after.closed);
    assert.equal(after.closed, true, 'the upstream saw the request go');
  } finally {
    await t.close();
  }
});

test('informational answers are skipped, repeated headers stay arrays, the body arrives whole', async () => {
  const s = await serve((res) => {
    res.writeProcessing();
    res.setHeader('set-cookie', ['a=1', 'b=2']);
    res.writeHead(201, { 'content-type': 'text/plain', 'x-one': 'first' });
    res.end('hello');
  });
  try {
    const response = await get(s);
    assert.equal(response.statusCode, 201);
    assert.deepEqual(response.headers['set-cookie'], ['a=1', 'b=2']);
    assert.equal(response.headers['x-one'], 'first');
    const chunks: Buffer[] = [];
    for await (const c of response.body) chunks.push(c as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), 'hello');
  } finally {
    await s.close();
  }
});
