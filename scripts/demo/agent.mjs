// The demo's guest program, run inside the sandbox as an agent would run: the official openai
// SDK, configured only by the environment the sandbox gives it. Bundled with its SDK by
// scripts/demo.sh into a folder the guest is shown.
import { lookup } from 'node:dns/promises';
import { connect } from 'node:net';
import OpenAI from 'openai';

const section = (title) => console.log(`\n== ${title}`);

/** How a direct TCP connection ends: `connected`, or the error's code. */
function tryConnect(host, port) {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 5000 });
    socket.once('connect', () => (socket.destroy(), resolve('connected')));
    socket.once('timeout', () => (socket.destroy(), resolve('timed out')));
    socket.once('error', (error) => resolve(error.code ?? error.message));
  });
}

async function main() {
  section('the guest environment: a placeholder and a base URL, never the key');
  for (const name of Object.keys(process.env).sort()) console.log(`${name}=${process.env[name]}`);

  const client = new OpenAI({ maxRetries: 0 });
  section('an allowed call, POST /v1/chat/completions, with the official openai SDK');
  const reply = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Say hello.' }],
  });
  console.log(`guest: ${reply.model} says ${JSON.stringify(reply.choices[0]?.message.content)}`);

  section('GET /v1/models is not an allowed endpoint: the proxy refuses it');
  try {
    await client.models.list();
    throw new Error('GET /v1/models was not refused');
  } catch (error) {
    if (!(error instanceof OpenAI.APIError)) throw error;
    console.log(`guest: ${error.status} ${JSON.stringify(error.error)}`);
  }

  section('a connection around the proxy fails at once');
  const dns = await lookup('api.openai.com').then(
    ({ address }) => `resolved to ${address}`,
    (error) => error.code,
  );
  console.log(`guest: look up api.openai.com: ${dns} (no DNS in a sandbox)`);
  const gateway = new URL(process.env.AIRLOCK_PROXY_URL).hostname;
  const direct = await tryConnect(gateway, 443);
  console.log(`guest: connect to ${gateway}:443: ${direct} (only the proxy port is open)`);
}

main().catch((error) => {
  console.error(`guest: ${error.message}`);
  process.exitCode = 1;
});
