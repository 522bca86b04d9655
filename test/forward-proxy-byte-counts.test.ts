import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { connectThrough, dialLocalPort, startForwardBench } from './helpers/forward-bench.js';
import { exchange } from './helpers/raw-client.js';

const UPLOAD = 10_000;
const DOWNLOAD = 357;

/** A TCP server that reads the whole upload, then answers DOWNLOAD bytes and hangs up. */
async function sink(t: { after(fn: () => unknown): void }): Promise<number> {
  const server = createServer((socket) => {
    let got = 0;
    socket.on('data', (c: Buffer) => {
      got += c.length;
      if (got === UPLOAD) socket.end(Buffer.alloc(DOWNLOAD, 'd'));
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as { port: number }).port;
}

test('absolute-form HTTP: bytesIn is the upload, bytesOut the download', async (t) => {
  const bench = await startForwardBench(t);
  const { responses } = await exchange(
    bench.port,
    `POST http://allowed.test/upload HTTP/1.1\r\nHost: allowed.test\r\nContent-Length: ${UPLOAD}\r\nConnection: close\r\n\r\n${'u'.repeat(UPLOAD)}`,
  );
  assert.equal(responses[0]?.status, 200);
  const body = responses[0].body;
  assert.ok(body.length > 0 && body.length !== UPLOAD, 'upload and download differ in size');
  const [outcome] = await bench.audit.outcomesReached(1);
  assert.equal(outcome?.bytesIn, UPLOAD, 'request body bytes from the guest');
  assert.equal(outcome?.bytesOut, Buffer.byteLength(body), 'response body bytes to the guest');
});

test('CONNECT: bytesIn is what the guest sent through the tunnel, bytesOut what came back', async (t) => {
  const port = await sink(t);
  const bench = await startForwardBench(t, {
    egress: { dial: dialLocalPort(port) },
  });
  const { status, socket } = await connectThrough(bench.port, 'allowed.test:443');
  assert.equal(status, 200);
  let received = 0;
  socket.on('data', (c: Buffer) => (received += c.length));
  const closed = new Promise((resolve) => socket.on('close', resolve));
  socket.write(Buffer.alloc(UPLOAD, 'u'));
  await closed;
  assert.equal(received, DOWNLOAD);
  const [outcome] = await bench.audit.outcomesReached(1);
  assert.equal(outcome?.bytesIn, UPLOAD, 'bytes from the guest');
  assert.equal(outcome?.bytesOut, DOWNLOAD, 'bytes to the guest');
});
