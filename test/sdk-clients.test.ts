import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { fakeApis as apis } from './helpers/fake-apis.js';
import { startBench } from './helpers/proxy-bench.js';
import { runGuest } from './helpers/run-guest.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/sdk/${name}`, import.meta.url));

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
