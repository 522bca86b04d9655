import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtin } from './helpers/proxy-bench.js';
import { runCli } from './helpers/cli.js';
import { fakeChat } from './helpers/fake-llm.js';
import { bundleForGuest } from './helpers/guest-bundle.js';
import { canarySecret } from './helpers/proxy-bench.js';
import { needsRoot, openaiRunArgs } from './helpers/sandbox-bench.js';
import { sandboxUpstream } from './helpers/sandbox-upstream.js';

interface CallResult {
  status: number | null;
  type?: string | null;
  message?: string;
}

test(
  'budgets in real sandboxes: the official SDK gets 429 once a budget is used, across runs of one name; streams end with a final event',
  { skip: needsRoot },
  async (t) => {
    const openai = builtin('openai');
    const fake = fakeChat({ unlimitedTokens: 2000 });
    const { home, config } = await sandboxUpstream(t, openai.hosts, fake.handler, {
      prices: { date: '2025-11-01', models: { 'gpt-test': { input: 2.5, output: 10 } } },
    });
    const agent = await bundleForGuest(t, 'sdk/budget-agent.mjs');
    const env = { OPENAI_API_KEY: canarySecret('openai'), AIRLOCK_HOME: home };
    const run = async (name: string, budget: string, mode: string) => {
      const r = await runCli(
        openaiRunArgs(['--config', config, '--name', name, '--budget', budget], ['node', agent, mode]),
        env,
      );
      assert.equal(r.status, 0, r.stderr + r.stdout);
      return {
        ...r,
        out: JSON.parse(r.stdout.trim().split('\n').pop()!) as {
          calls: CallResult[];
          chunks?: number;
          ended?: CallResult | 'done';
        },
      };
    };

    // each call is 150 prompt + 100 completion tokens: four fit in 1,000
    const first = await run('agent', 'tokens=1000/1h', 'calls');
    assert.deepEqual(
      first.out.calls.map((c) => c.status),
      [200, 200, 200, 200, 429, 429],
    );
    assert.equal(first.out.calls[4]!.type, 'airlock_budget_exhausted');
    assert.match(first.out.calls[4]!.message!, /tokens=1000\/1h is used up/);
    // the exit summary: the budget, and the cost by hand: 4 × (150 × $2.50 + 100 × $10) / 1e6 = $0.0055
    assert.match(
      first.stderr,
      /airlock: 6 requests, 2 denied, 1,000 tokens, est\. \$0\.005500; budget tokens=1000\/1h: 1,000 of 1,000 used/,
    );
    assert.match(
      first.stderr,
      /airlock: blocked POST api\.openai\.com\/v1\/chat\/completions — the budget tokens=1000\/1h is used up/,
    );

    // a new engine, the same name: the budget carries on, the agent cannot reset it by restarting
    const again = await run('agent', 'tokens=1000/1h', 'calls');
    assert.deepEqual(
      again.out.calls.map((c) => c.status),
      [429, 429, 429, 429, 429, 429],
    );

    // another sandbox is not touched by it
    const other = await run('other', 'tokens=1000/1h', 'calls');
    assert.deepEqual(
      other.out.calls.map((c) => c.status),
      [200, 200, 200, 200, 429, 429],
    );

    // a stream with no max_tokens runs until the budget is used, then ends with the final event
    const streamer = await run('streamer', 'tokens=1000', 'stream');
    assert.equal(streamer.out.chunks, 301, 'one chunk per token, the one that crossed included');
    assert.notEqual(streamer.out.ended, 'done');
    assert.equal((streamer.out.ended as CallResult).type, 'airlock_budget_exhausted');

    const budgets = await runCli(['audit', '--query', 'budget', '--json'], { AIRLOCK_HOME: home });
    assert.equal(budgets.status, 0, budgets.stderr);
    const rows = budgets.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const pick = (r: Record<string, unknown>) => [
      r.sandbox,
      r.kind,
      r.limit,
      r.used,
      r.remaining,
      r.window_seconds,
    ];
    assert.deepEqual(rows.map(pick), [
      ['agent', 'tokens', 1000, 1000, 0, 3600],
      ['other', 'tokens', 1000, 1000, 0, 3600],
      ['streamer', 'tokens', 1000, 1001, 0, null],
    ]);
  },
);
