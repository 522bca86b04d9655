import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { connectThrough, dialLocalPort, startForwardBench } from './helpers/forward-bench.js';

test('a CONNECT tunnel leaves no "possible EventEmitter memory leak" warning in the log', async (t) => {
  // Node warns once per emitter past 10 listeners of one event: one line in the daemon's log
  // for every tunnel a guest opens, pointing people at a leak that is not there
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  t.after(() => void process.off('warning', onWarning));
  const echo = createServer((s) => s.pipe(s).on('error', () => {}));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => echo.close(() => resolve())));
  const { port: echoPort } = echo.address() as { port: number };
  const bench = await startForwardBench(t, {
    egress: { dial: dialLocalPort(echoPort) },
  });
  for (let i = 0; i < 3; i++) {
    const { status, socket } = await connectThrough(bench.port, 'allowed.test:443');
    assert.equal(status, 200);
    const back = new Promise<string>((resolve) => socket.once('data', (c: Buffer) => resolve(c.toString())));
    socket.write(`ping ${i}`);
    assert.equal(await back, `ping ${i}`);
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.end();
    await closed;
  }
  await bench.audit.outcomesReached(3);
  await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
  assert.deepEqual(warnings, []);
});
