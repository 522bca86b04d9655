import assert from 'node:assert/strict';
import { test } from 'node:test';
import OpenAI from 'openai';
import type { UpstreamHandler } from './helpers/fake-upstream.js';
import { rawRequest, startPolicyBench } from './helpers/policy-proxy.js';
import { exchange } from './helpers/raw-client.js';

/**
 * Issue 5's "done when", at proxy level: the policy `airlock run --profile llm-only
 * --cred OPENAI_API_KEY --allow-endpoint openai:POST:/v1/chat/completions` builds, behind the
 * real proxy listener. The chat call goes through with the real key; `GET /v1/models` is a 403
 * that says why. The fake upstream answers both, so only the policy can make the difference.
 */

const handler: UpstreamHandler = (req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  if (req.url === '/v1/models') {
    res.end(
      JSON.stringify({
        object: 'list',
        data: [{ id: 'gpt-test', object: 'model', created: 0, owned_by: 'x' }],
      }),
    );
    return;
  }
  res.end(
    JSON.stringify({
      id: 'c1', object: 'chat.completion', created: 0, model: 'gpt-test',
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'hi from the fake upstream' } }],
      usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 },
    }), // prettier-ignore
  );
};

test('llm-only + --allow-endpoint openai:POST:/v1/chat/completions: chat passes, GET /v1/models is a 403 saying why', async (t) => {
  const bench = await startPolicyBench(
    t,
    {
      profiles: ['llm-only'],
      credentials: ['OPENAI_API_KEY'],
      allowEndpoints: ['openai:POST:/v1/chat/completions'],
    },
    { handler },
  );
  const cred = bench.cred('openai');
  // the official SDK, configured only from what the guest gets: placeholder key and base URL
  const client = new OpenAI({
    apiKey: bench.env.OPENAI_API_KEY,
    baseURL: bench.env.OPENAI_BASE_URL,
    maxRetries: 0,
  });
  assert.equal(bench.env.OPENAI_API_KEY, cred.placeholder);

  const chat = await client.chat.completions.create({
    model: 'gpt-test',
    messages: [{ role: 'user', content: 'hello' }],
  });
  assert.equal(chat.choices[0]?.message.content, 'hi from the fake upstream');
  assert.equal(bench.upstream.requests.length, 1);
  const seen = bench.upstream.requests[0]!;
  assert.equal(`${seen.method} ${seen.path}`, 'POST /v1/chat/completions');
  assert.equal(seen.headers.authorization, `Bearer ${cred.secret}`, 'the real key went upstream');
  assert.ok(!JSON.stringify(seen.rawHeaders).includes(cred.placeholder), 'the placeholder did not');
  assert.deepEqual(JSON.parse(seen.body.toString()), {
    model: 'gpt-test',
    messages: [{ role: 'user', content: 'hello' }],
  });

  // the SDK's own error carries the proxy's explanation
  await assert.rejects(client.models.list(), (err: unknown) => {
    assert.ok(err instanceof OpenAI.PermissionDeniedError, String(err));
    assert.equal(err.status, 403);
    assert.match(err.message, /GET \/v1\/models refused for service "openai"/);
    return true;
  });

  // and on the wire: 403 JSON naming the service, the rule set, the rule source and the rules
  const raw = await exchange(
    bench.proxy.address.port,
    rawRequest('GET', '/proxy/openai/v1/models', [
      `Authorization: Bearer ${cred.placeholder}`,
      'Connection: close',
    ]),
  );
  const res = raw.responses[0];
  assert.ok(res, raw.raw);
  assert.equal(res.status, 403);
  assert.match(res.headers['content-type'] ?? '', /^application\/json/);
  const body = JSON.parse(res.body) as { error: { type: string; message: string } };
  assert.equal(body.error.type, 'airlock_policy_denied');
  assert.equal(
    body.error.message,
    'GET /v1/models refused for service "openai": not in its endpoint rules (from --allow-endpoint; ' +
      'profile "llm-only"), which allow only POST /v1/chat/completions',
  );
  assert.ok(!res.body.includes(cred.secret) && !res.body.includes(cred.placeholder));

  // neither refusal reached the upstream; both are on record as policy denials
  assert.equal(bench.upstream.requests.length, 1, 'only the chat call went upstream');
  assert.deepEqual(
    bench.audit.denials.map((d) => [d.method, d.path, d.status, d.reason]),
    [
      ['GET', '/v1/models', 403, 'airlock_policy_denied'],
      ['GET', '/v1/models', 403, 'airlock_policy_denied'],
    ],
  );
  assert.equal(bench.audit.intents.length, 1);
  assert.equal(bench.audit.intents[0]?.credential, 'OPENAI_API_KEY');
});
