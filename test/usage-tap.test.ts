import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import type { Service } from '../src/catalogue/service.js';
import type { UsageReader } from '../src/proxy/types.js';
import { respond } from './helpers/fake-upstream.js';
import { startBench } from './helpers/proxy-bench.js';

test('the usage tap sees every response chunk as it streams and its result is audited', async (t) => {
  const calls: { service: string; contentType: unknown; chunks: string[] }[] = [];
  const bench = await startBench(t, {
    services: ['openai'],
    handler: respond.sse(['{"a":1}', '{"usage":{"prompt_tokens":3,"completion_tokens":5}}', '[DONE]']),
    deps: {
      usageTap(service: Service, headers): UsageReader {
        const call = { service: service.name, contentType: headers['content-type'], chunks: [] as string[] };
        calls.push(call);
        return {
          write: (chunk) => void call.chunks.push(chunk.toString()),
          end: () => ({ model: 'gpt-test', inputTokens: 3, outputTokens: 5 }),
        };
      },
    },
  });
  const res = await request(`${bench.baseUrl}/proxy/openai/v1/chat/completions`, {
    method: 'POST',
    body: '{}',
  });
  const body = await res.body.text();
  assert.equal(calls.length, 1);
  assert.equal(calls[0]?.service, 'openai');
  assert.equal(calls[0]?.contentType, 'text/event-stream');
  assert.equal(calls[0]?.chunks.join(''), body, 'the tap saw exactly what the guest got');
  const [outcome] = await bench.audit.outcomesReached(1);
  assert.deepEqual(outcome?.usage, { model: 'gpt-test', inputTokens: 3, outputTokens: 5 });
  assert.ok(typeof outcome?.ttfbMs === 'number' && outcome.ttfbMs <= outcome.durationMs);
});

test('a usage tap that throws never breaks the stream', async (t) => {
  const bench = await startBench(t, {
    services: ['openai'],
    handler: respond.json(200, { ok: true }),
    deps: {
      usageTap: () => ({
        write: () => {
          throw new Error('parser bug');
        },
        end: () => {
          throw new Error('parser bug');
        },
      }),
    },
  });
  const res = await request(`${bench.baseUrl}/proxy/openai/v1/models`);
  assert.equal(res.statusCode, 200);
  assert.equal(await res.body.text(), '{"ok":true}');
  const [outcome] = await bench.audit.outcomesReached(1);
  assert.equal(outcome?.decision, 'allowed');
  assert.equal(outcome?.usage, undefined);
});
