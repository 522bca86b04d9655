import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { deferred } from './helpers/deferred.js';
import { respond } from './helpers/fake-upstream.js';
import { startBench } from './helpers/proxy-bench.js';

test('each SSE event reaches the client before the upstream sends the next one', async (t) => {
  const events = ['{"n":0}', '{"n":1}', '{"n":2}', '{"n":3}', '[DONE]'];
  // the upstream sends event i+1 only after the client has acked event i: if the proxy
  // buffered anything, the client would never see event i and the exchange would stall
  const acks = events.map(() => deferred());
  const log: string[] = [];
  const bench = await startBench(t, {
    services: ['openai'],
    handler: respond.sse(events, async (i) => {
      log.push(`upstream sent ${i}`);
      await acks[i]!.promise;
    }),
  });
  const res = await request(`${bench.baseUrl}/proxy/openai/v1/chat/completions`, {
    method: 'POST',
    body: '{"stream":true}',
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['content-type'], 'text/event-stream');
  let text = '';
  let acked = 0;
  for await (const chunk of res.body) {
    text += (chunk as Buffer).toString();
    const complete = text.split('\n\n').length - 1;
    while (acked < complete) {
      log.push(`client got ${acked}`);
      acks[acked]!.resolve();
      acked++;
    }
  }
  assert.equal(acked, events.length);
  assert.deepEqual(log.slice(0, 4), ['upstream sent 0', 'client got 0', 'upstream sent 1', 'client got 1']);
});
