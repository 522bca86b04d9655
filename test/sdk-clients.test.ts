import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import type { UpstreamHandler } from './helpers/fake-upstream.js';
import { startBench } from './helpers/proxy-bench.js';
import { runGuest } from './helpers/run-guest.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/sdk/${name}`, import.meta.url));

/** Canned answers in each API's real shape, chosen by the real hostname and path. */
const apis: UpstreamHandler = (req, res) => {
  const host = (req.headers.host ?? '').split(':')[0];
  const path = req.url ?? '';
  const json = (body: unknown) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (host === 'api.openai.com' && path === '/v1/models') {
    return json({
      object: 'list',
      data: [{ id: 'gpt-test', object: 'model', created: 0, owned_by: 'airlock' }],
    });
  }
  if (host === 'api.anthropic.com' && path === '/v1/messages') {
    return json({
      id: 'msg_test', type: 'message', role: 'assistant', model: 'claude-test',
      content: [{ type: 'text', text: 'hi from anthropic' }],
      stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 3, output_tokens: 4 },
    }); // prettier-ignore
  }
  if (host === 'generativelanguage.googleapis.com' && path === '/v1beta/models/gemini-test:generateContent') {
    return json({ candidates: [{ content: { role: 'model', parts: [{ text: 'hi from gemini' }] } }] });
  }
  if (host === 'router.huggingface.co' && path === '/v1/chat/completions') {
    return json({
      id: 'c1', object: 'chat.completion', created: 0, model: 'test/model',
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'hi from hf' } }],
    }); // prettier-ignore
  }
  if (host === 'api.github.com' && path === '/user') return json({ login: 'airlock-bot', id: 1 });
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: `fake upstream has no ${req.method} ${host}${path}` }));
};

const cases = [
  { sdk: 'openai', command: process.execPath, script: 'openai.mjs', result: 'gpt-test', header: 'authorization', value: (s: string) => `Bearer ${s}` },
  { sdk: 'anthropic', command: process.execPath, script: 'anthropic.mjs', result: 'hi from anthropic', header: 'x-api-key', value: (s: string) => s },
  { sdk: 'google', command: process.execPath, script: 'google.mjs', result: 'hi from gemini', header: 'x-goog-api-key', value: (s: string) => s },
  { sdk: 'huggingface', command: process.execPath, script: 'huggingface.mjs', result: 'hi from hf', header: 'authorization', value: (s: string) => `Bearer ${s}` },
  { sdk: 'github', command: process.execPath, script: 'github.mjs', result: 'airlock-bot', header: 'authorization', value: (s: string) => `Bearer ${s}` },
  { sdk: 'curl', command: 'sh', script: 'curl.sh', result: undefined, header: 'authorization', value: (s: string) => `Bearer ${s}` },
]; // prettier-ignore

test('official SDKs and curl work unchanged with only the guest environment', async (t) => {
  const bench = await startBench(t, { handler: apis });
  for (const c of cases) {
    await t.test(c.sdk, async () => {
      const service = c.sdk === 'curl' ? 'openai' : c.sdk;
      const cred = bench.credentials[service]!;
      const before = bench.upstream.requests.length;
      const run = await runGuest(c.command, [fixture(c.script)], bench.env);
      assert.equal(run.code, 0, `${c.sdk} failed: ${run.stderr}${run.stdout}`);
      const line = JSON.parse(run.stdout.trim().split('\n').pop()!) as { ok: boolean; result: unknown };
      assert.equal(line.ok, true);
      if (c.result !== undefined) assert.equal(line.result, c.result);

      const seen = bench.upstream.requests.slice(before);
      assert.equal(seen.length, 1, 'one upstream request');
      const req = seen[0]!;
      const wire = `${req.path}\n${req.rawHeaders.join('\n')}`;
      assert.equal(wire.split(cred.secret).length - 1, 1, 'the real key, exactly once');
      assert.equal(req.headers[c.header], c.value(cred.secret));
      assert.ok(!wire.includes(cred.placeholder), 'no placeholder upstream');
      for (const secret of bench.secrets) {
        assert.ok(!JSON.stringify(run.env).includes(secret), 'no secret in the guest environment');
        assert.ok(!run.argv.join(' ').includes(secret), 'no secret in argv');
        assert.ok(!run.stdout.includes(secret) && !run.stderr.includes(secret), 'no secret in guest output');
      }
    });
  }
});
