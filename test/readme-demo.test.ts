import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { leftovers } from './helpers/fake-internet.js';
import { needsRoot, tempHome } from './helpers/sandbox-bench.js';

/** How a TCP connection to the address ends: the error code, or `connected`. */
function connectError(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => (socket.destroy(), resolve('connected')));
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

const DEMO = fileURLToPath(new URL('../scripts/demo.sh', import.meta.url));

test(
  'the README’s demo command works as written and leaves nothing behind',
  { skip: needsRoot },
  async (t) => {
    const child = spawn('bash', [DEMO], {
      env: { ...process.env, AIRLOCK_HOME: tempHome(t) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(status, 0, err + out);
    assert.match(out, /^install: \[1\/4\] system packages: /m, 'install progress is shown');
    assert.match(out, /^install: \[4\/4\] build: /m);
    assert.match(out, /^OPENAI_API_KEY=sk-airlock-[A-Za-z0-9]{48}$/m, 'the guest holds a placeholder');
    assert.doesNotMatch(out + err, /sk-demo-[0-9a-f]{24}/, 'the key is never printed whole');
    // the one successful call: the stand-in got the real key, the guest the stand-in's answer
    assert.match(
      out,
      /^stand-in api\.openai\.com: POST \/v1\/chat\/completions with Bearer sk-demo-…[0-9a-f]{4} \(the real key\)$/m,
    );
    assert.match(
      out,
      /^guest: gpt-4o-mini-2024-07-18 says "Hello from the stand-in for api\.openai\.com!"$/m,
    );
    assert.doesNotMatch(out, /stand-in api\.openai\.com: GET/, 'the refused call never reached the stand-in');
    assert.match(
      out,
      /^guest: 403 \{"type":"airlock_policy_denied".*GET \/v1\/models refused for service \\"openai\\"/m,
    );
    assert.match(out, /^guest: look up api\.openai\.com: EAI_AGAIN /m);
    assert.match(out, /^guest: connect to [\d.]+:443: ECONNREFUSED /m);
    assert.match(
      out,
      /openai\s+allowed\s+200\s+POST\s+api\.openai\.com\s+\/v1\/chat\/completions\s+\d+\s+11\/9\s+gpt-4o-mini-2024-07-18/,
    );
    assert.match(out, /openai\s+denied\s+403\s+GET\s+api\.openai\.com\s+\/v1\/models/);
    assert.match(out, /2 requests · 1 denied/);
    assert.equal(await connectError('127.0.0.44', 443), 'ECONNREFUSED', 'the stand-in is gone');
    assert.deepEqual(await leftovers(), { netns: [], links: [], elements: 0, cgroups: [] });
  },
);
