import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Proposal } from '../src/policy/index.js';
import { runCli } from './helpers/cli.js';
import { bundleForGuest } from './helpers/guest-bundle.js';
import { learnedRules, LEARNED_AGENT_RULES, learnUpstream } from './helpers/learn-agent.js';
import { canarySecret } from './helpers/proxy-bench.js';
import { needsRoot, openaiRunArgs } from './helpers/sandbox-bench.js';

test(
  'airlock learn: a recorded SDK run yields rules that let the same run through with no denial and refuse a call it never made',
  { skip: needsRoot },
  async (t) => {
    const { home, config } = await learnUpstream(t);
    const agent = await bundleForGuest(t, 'sdk/learn-agent.mjs');
    const env = { OPENAI_API_KEY: canarySecret('openai'), AIRLOCK_HOME: home };
    const run = async (flags: string[], mode: string) => {
      const r = await runCli(openaiRunArgs(flags, ['node', agent, mode]), env);
      assert.equal(r.status, 0, r.stderr + r.stdout);
      const line = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
        results: { status: number | null; type?: string | null }[];
      };
      return { ...r, statuses: line.results.map((x) => x.status), results: line.results };
    };

    // recording: the endpoint rule that would refuse most of it is lifted, and that is said
    const recorded = await run(
      [
        '--config',
        config,
        '--name',
        'rec',
        '--learn',
        '--allow-endpoint',
        'openai:POST:/v1/chat/completions',
      ],
      'agent',
    );
    assert.deepEqual(recorded.statuses, [200, 200, 200, 200, 200]);
    assert.match(recorded.stderr, /learn mode: endpoint rules are not enforced/);
    assert.match(recorded.stderr, /airlock: 5 requests, 0 denied/);

    const learned = await runCli(['learn', 'rec', '--json'], { AIRLOCK_HOME: home });
    assert.equal(learned.status, 0, learned.stderr);
    const proposal = JSON.parse(learned.stdout) as Proposal;
    assert.equal(proposal.profile, 'learned-rec');
    assert.deepEqual(learnedRules(proposal), LEARNED_AGENT_RULES);
    assert.deepEqual(proposal.config.profiles['learned-rec']!.hosts, ['api.openai.com']);
    const text = await runCli(['learn', 'rec'], { AIRLOCK_HOME: home });
    assert.match(
      text.stdout,
      /GET \/v1\/files\/\*\s+2\s+\/v1\/files\/file-AbC123def456 \/v1\/files\/file-ZyX987wvu654/,
    );
    assert.match(text.stdout, /Proposed config \(review it; run with --config FILE --profile learned-rec\)/);

    // applied: the same run passes with no denial, and a call it never made is refused
    const learnedConfig = join(home, 'learned.json');
    writeFileSync(
      learnedConfig,
      JSON.stringify({ ...(JSON.parse(readFileSync(config, 'utf8')) as object), ...proposal.config }),
    );
    const flags = ['--config', learnedConfig, '--profile', 'learned-rec'];
    const replay = await run([...flags, '--name', 'replay'], 'agent');
    assert.deepEqual(replay.statuses, [200, 200, 200, 200, 200]);
    assert.match(replay.stderr, /airlock: 5 requests, 0 denied/);
    assert.doesNotMatch(replay.stderr, /blocked/);

    const extra = await run([...flags, '--name', 'extra'], 'extra');
    assert.deepEqual(extra.results, [{ status: 403, type: 'airlock_policy_denied' }]);
    assert.match(extra.stderr, /airlock: blocked POST api\.openai\.com\/v1\/embeddings/);
  },
);
