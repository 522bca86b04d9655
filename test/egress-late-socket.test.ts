import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createEgressGuard } from '../src/proxy/forward/egress-guard.js';

test('a connection that completes after the connect time-out is closed, not leaked', async (t) => {
  const server = createServer((s) => s.on('error', () => {}));
  const accepted: Socket[] = [];
  server.on('connection', (s: Socket) => accepted.push(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => (server.close(() => resolve()), accepted.forEach((s) => s.destroy()))),
  );
  const port = (server.address() as { port: number }).port;

  let late: Socket | undefined;
  const guard = createEgressGuard({
    resolve: {},
    connectTimeout: 50,
    // a dialer that is slower than the time-out: it connects at 200 ms
    dial: async (ip, p) => {
      await sleep(200);
      late = connect(p, ip);
      await once(late, 'connect');
      return late;
    },
  });
  await assert.rejects(guard.dial({ ip: '127.0.0.1', pinned: true }, port), {
    code: 'UND_ERR_CONNECT_TIMEOUT',
  });
  // the late connection arrives at the server, then must be closed by the proxy
  while (accepted.length === 0) await sleep(10);
  const [serverSide] = accepted;
  if (!serverSide!.destroyed && !serverSide!.readableEnded) {
    const closed = once(serverSide!, 'close');
    const gone = await Promise.race([closed.then(() => true), sleep(5_000).then(() => false)]);
    assert.ok(gone, 'the late socket was left open');
  }
  assert.ok(late?.destroyed, 'the proxy destroyed its end');
});
