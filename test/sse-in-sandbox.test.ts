import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startCli } from './helpers/cli.js';
import { deferred } from './helpers/deferred.js';
import { respond } from './helpers/fake-upstream.js';
import { canarySecret } from './helpers/proxy-bench.js';
import { guestFixture, needsRoot, openaiRunArgs } from './helpers/sandbox-bench.js';
import { sandboxUpstream } from './helpers/sandbox-upstream.js';

test(
  'each SSE event reaches a guest in a sandbox before the upstream sends the next',
  { skip: needsRoot, timeout: 60_000 },
  async (t) => {
    const events = ['{"n":0}', '{"n":1}', '{"n":2}', '{"n":3}', '[DONE]'];
    const acks = events.map(() => deferred());
    const order: string[] = [];
    const stream = respond.sse(events, async (i) => {
      order.push(`sent ${i}`);
      await acks[i]!.promise;
    });
    // the guest's acks come back through the proxy as POST /v1/acks/<i>
    const { home, config } = await sandboxUpstream(t, ['api.openai.com'], (req, res, recorded) => {
      const ack = /^\/v1\/acks\/(\d+)$/.exec(req.url ?? '');
      if (!ack) return stream(req, res, recorded);
      order.push(`ack ${ack[1]}`);
      acks[Number(ack[1])]!.resolve();
      res.writeHead(204).end();
    });
    const { child, done } = startCli(
      openaiRunArgs(['--config', config], ['node', guestFixture(t, 'sse-acking-guest.mjs')]),
      { AIRLOCK_HOME: home, OPENAI_API_KEY: canarySecret('openai') },
    );
    // a buffering proxy would stall the exchange: end it (airlock tears the sandbox down) so
    // the test fails on its time-out instead of hanging the run
    t.after(() => child.kill('SIGTERM'));
    const run = await done;
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout) as string[], events, 'the guest saw every event, in order');
    assert.deepEqual(order, ['sent 0', 'ack 0', 'sent 1', 'ack 1', 'sent 2', 'ack 2', 'sent 3', 'ack 3']);
  },
);
