import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluate } from '../src/policy/index.js';
import { connectThrough, startForwardBench } from './helpers/forward-bench.js';
import { grantAll } from './helpers/policy.js';
import { builtin } from './helpers/proxy-bench.js';
import { runGuest } from './helpers/run-guest.js';

type ErrorBody = { error: { type: string; message: string } };
/** the JSON body after the head (connectThrough reads latin1; the body is UTF-8) */
const bodyOf = (head: string) =>
  JSON.parse(Buffer.from(head.slice(head.indexOf('\r\n\r\n') + 4), 'latin1').toString('utf8')) as ErrorBody;

// the github profile plus an OpenAI credential: the policy has something to say about each target
const policy = grantAll([builtin('openai')], { profiles: ['github', 'llm-only'] });

test('a refused CONNECT carries the policy’s own reason, word for word', async (t) => {
  const bench = await startForwardBench(t, { policy });
  // api.anthropic.com: llm-only lets no tunnel reach an LLM host without this sandbox's credential
  // api.openai.com:80: a credential host only over intercepted HTTPS or the base URL
  for (const target of [
    'evil.test:443',
    'github.com:22',
    'api.anthropic.com:443',
    'api.openai.com:80',
    'github.com',
  ]) {
    const decision = evaluate(policy, { kind: 'forward', method: 'CONNECT', target });
    assert.ok(!decision.allow, target);
    const res = await connectThrough(bench.port, target, null);
    const body = bodyOf(res.head);
    assert.equal(body.error.message, decision.message, target);
    assert.equal(body.error.type, decision.code.replace('AIRLOCK_ERR_', 'airlock_').toLowerCase(), target);
  }
  assert.match(
    bodyOf((await connectThrough(bench.port, 'evil.test:443', null)).head).error.message,
    /evil\.test is not allowed by profile "github" \+ "llm-only" \(allowed: github\.com, /,
  );
  assert.deepEqual(bench.dials, []);
});

test('curl -v shows why its CONNECT was refused', async (t) => {
  const bench = await startForwardBench(t, { policy });
  const curl = await runGuest('curl', ['-sS', '-v', 'https://evil.test/'], bench.env, 20_000);
  assert.equal(curl.code, 56);
  assert.match(curl.stderr, /< HTTP\/1\.1 403/);
  assert.match(
    curl.stderr,
    /airlock_policy_denied: forward proxy: evil\.test is not allowed by profile "github"/,
  );
});
