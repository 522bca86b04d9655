// The engine of `npm run bench`'s streaming figures, in a process of its own that holds only
// it: the library as built in dist/ (what `airlock daemon` runs, no tsx), one engine, its
// sandboxes and the guest commands started in them. The bench samples this process's RSS from
// /proc, so the figure is the engine's, not the bench's. Plain JS: bare node runs it.
//
// Talks JSON lines. stdin: first `{home, config, env}` (env holds the real key: it never goes
// in argv), then requests `{id, op}`: `create` (a sandbox granted `credentials`) →
// `{id, sandbox}`; `spawn` (`sandbox`, `argv`, `input` for its stdin) → `{id, stdout}` and
// `{id, stderr}` as the command writes, then `{id, exit}`; `close` (`sandbox`) → `{id}`.
// stdout: `{ready, sandbox}` once the engine and its first sandbox are up, then the answers.
// Closing stdin closes the engine, removes `home` and ends the process.
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Engine, parseConfig } from '../../dist/index.js';

const lines = createInterface({ input: process.stdin });
const iterator = lines[Symbol.asyncIterator]();
const first = await iterator.next();
const { home, config, env, credentials } = JSON.parse(first.value);
const send = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);

const engine = await Engine.open({ home, config: parseConfig(config), invokingEnv: env });
const sandboxes = new Map();
const create = async () => {
  const sandbox = await engine.create({ credentials });
  sandboxes.set(sandbox.id, sandbox);
  return sandbox.id;
};
send({ ready: true, sandbox: await create() });

async function handle(request) {
  const { id, op } = request;
  if (op === 'create') return send({ id, sandbox: await create() });
  const sandbox = sandboxes.get(request.sandbox);
  if (!sandbox) throw new Error(`no sandbox ${request.sandbox}`);
  if (op === 'close') {
    sandboxes.delete(request.sandbox);
    await sandbox.close();
    return send({ id });
  }
  if (op !== 'spawn') throw new Error(`unknown op ${op}`);
  const guest = sandbox.spawn(request.argv);
  guest.stdout.setEncoding('utf8').on('data', (stdout) => send({ id, stdout }));
  guest.stderr.setEncoding('utf8').on('data', (stderr) => send({ id, stderr }));
  guest.stdin.end(request.input ?? '');
  const exit = await guest.exited;
  // the exit may be seen before the last output: wait for both pipes to end
  await Promise.all([guest.stdout, guest.stderr].map((s) => (s.readableEnded ? undefined : once(s, 'end'))));
  send({ id, exit });
}

try {
  for await (const line of { [Symbol.asyncIterator]: () => iterator }) {
    const request = JSON.parse(line);
    handle(request).catch((error) => send({ id: request.id, error: String(error?.stack ?? error) }));
  }
} finally {
  await engine.close();
  rmSync(home, { recursive: true, force: true }); // also when the bench died without removing it
}
