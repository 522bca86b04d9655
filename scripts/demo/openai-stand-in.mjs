// The demo's stand-in for api.openai.com: an HTTPS server on a loopback address of this machine
// (airlock's `resolve` pins the name here, its `upstreamCa` trusts this certificate), so the
// demo's one successful call never leaves the machine. It prints what it received, the key
// masked, and whether that is the real key the guest never held (given in DEMO_OPENAI_KEY).
// Usage: node openai-stand-in.mjs DIR ADDRESS — DIR holds cert.pem and key.pem; `DIR/ready`
// appears once it listens.
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { join } from 'node:path';

const [dir, address] = process.argv.slice(2);
const realKey = process.env.DEMO_OPENAI_KEY ?? '';

/** `sk-demo-…1a2b`: enough to recognise a key, not to use it */
const mask = (key) => (key.length > 12 ? `${key.slice(0, 8)}…${key.slice(-4)}` : '…');

const completion = {
  id: 'chatcmpl-demo',
  object: 'chat.completion',
  created: Math.floor(Date.now() / 1000),
  model: 'gpt-4o-mini-2024-07-18',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'Hello from the stand-in for api.openai.com!' },
      finish_reason: 'stop',
    },
  ],
  usage: { prompt_tokens: 11, completion_tokens: 9, total_tokens: 20 },
};

const server = createServer(
  { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) },
  (req, res) => {
    const key = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    const verdict = key === realKey ? 'the real key' : 'NOT the real key';
    console.log(`stand-in api.openai.com: ${req.method} ${req.url} with Bearer ${mask(key)} (${verdict})`);
    req.resume();
    req.on('end', () => {
      const ok = req.method === 'POST' && req.url === '/v1/chat/completions';
      res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          ok ? completion : { error: { message: 'not in the stand-in', type: 'invalid_request_error' } },
        ),
      );
    });
  },
);
server.on('error', (error) => {
  console.error(`demo: the stand-in cannot listen on ${address}:443 (${error.code ?? error.message})`);
  process.exit(1);
});
server.listen(443, address, () => writeFileSync(join(dir, 'ready'), ''));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
