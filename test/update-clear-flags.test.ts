import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { updateCommand } from '../src/cli/update.js';
import { changeSpec } from '../src/daemon/api-policy.js';
import { parseConfig } from '../src/config/load-config.js';
import { captureIo } from './helpers/capture-io.js';
import { socketDir } from './helpers/daemon.js';

/** A stand-in daemon on a unix socket: records each PATCH body, answers with a sandbox id. */
async function fakeDaemon(t: Parameters<typeof socketDir>[0]) {
  const socket = join(socketDir(t), 'airlock.sock');
  const bodies: unknown[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      bodies.push(JSON.parse(text));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"sbx-1"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return { socket, bodies };
}

test('airlock update --budget none / --allow-endpoint none clear the lists: an empty array in the PATCH', async (t) => {
  const daemon = await fakeDaemon(t);
  const update = (args: string[]) =>
    updateCommand.run(['agent', '--socket', daemon.socket, ...args], captureIo().io);
  assert.equal(await update(['--budget', 'none', '--allow-endpoint', 'none']), 0);
  assert.equal(
    await update(['--budget', 'requests=600/1h', '--allow-endpoint', 'openai:POST:/v1/* 60/1m']),
    0,
  );
  assert.deepEqual(daemon.bodies, [
    { credentials: [], secrets: {}, budgets: [], allowEndpoints: [] },
    {
      credentials: [],
      secrets: {},
      budgets: ['requests=600/1h'],
      allowEndpoints: ['openai:POST:/v1/* 60/1m'],
    },
  ]);
  await assert.rejects(update(['--budget', 'none', '--budget', 'tokens=1k']), {
    code: 'AIRLOCK_ERR_USAGE',
    message: /--budget none clears the list; give it alone/,
  });
  assert.equal(daemon.bodies.length, 2, 'nothing sent');
  // the API takes the empty arrays as they are (the engine records them as a change)
  assert.deepEqual(changeSpec({ budgets: [], allowEndpoints: [] }, parseConfig({})), {
    budgets: [],
    allowEndpoints: [],
  });
});
