import assert from 'node:assert/strict';
import { test } from 'node:test';
import { main } from '../src/cli/main.js';
import { socketPath } from '../src/daemon/client.js';
import { DEFAULT_SOCKET } from '../src/daemon/protocol.js';
import { captureIo } from './helpers/cli.js';
import { tempDir } from './helpers/temp-dir.js';

test('--socket, then AIRLOCK_SOCKET, then /run/airlock/airlock.sock', () => {
  assert.equal(socketPath('/a.sock', { AIRLOCK_SOCKET: '/b.sock' }), '/a.sock');
  assert.equal(socketPath(undefined, { AIRLOCK_SOCKET: '/b.sock' }), '/b.sock');
  assert.equal(socketPath(undefined, { AIRLOCK_SOCKET: '' }), DEFAULT_SOCKET);
  assert.equal(DEFAULT_SOCKET, '/run/airlock/airlock.sock');
});

test('every client says no daemon answers, where it looked, and how to start one', async (t) => {
  const { dir } = tempDir(t);
  const flagged = `${dir}/flag.sock`;
  const fromEnv = `${dir}/env.sock`;
  for (const args of [
    ['ls'],
    ['create', '--name', 'x'],
    ['exec', 'x', '--', 'true'],
    ['logs', 'x'],
    ['rm', 'x'],
    ['stop', 'x'],
  ]) {
    for (const [extra, where] of [
      [['--socket', flagged], flagged],
      [[], fromEnv],
    ] as const) {
      const io = captureIo({ AIRLOCK_SOCKET: fromEnv });
      const status = await main([args[0]!, ...extra, ...args.slice(1)], io);
      assert.equal(status, 125, `${JSON.stringify(args)}: ${io.err()}`);
      assert.match(
        io.err(),
        new RegExp(`no airlock daemon answers on ${where} \\(ENOENT\\)`),
        JSON.stringify(args),
      );
      assert.match(io.err(), /\[AIRLOCK_ERR_DAEMON_UNREACHABLE\]\n {2}hint: start it with: airlock daemon/);
    }
  }
});

test('client usage errors come before any connection', async () => {
  for (const args of [['exec', 'x'], ['exec', '--', 'true'], ['logs'], ['rm'], ['create', 'extra']]) {
    const io = captureIo({ AIRLOCK_SOCKET: '/nonexistent/airlock.sock' });
    assert.equal(await main(args, io), 125, `${JSON.stringify(args)}: ${io.err()}`);
    assert.match(io.err(), /AIRLOCK_ERR_USAGE/);
  }
});
