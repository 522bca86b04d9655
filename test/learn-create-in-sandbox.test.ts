import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Proposal } from '../src/policy/index.js';
import { daemonHome, execCodes, socketDir, startDaemon } from './helpers/daemon.js';
import { AGENT_CURLS, learnedRules, LEARNED_AGENT_RULES, learnUpstream } from './helpers/learn-agent.js';
import { canarySecret } from './helpers/proxy-bench.js';
import { needsRoot } from './helpers/sandbox-bench.js';

test(
  'create --learn: a daemon sandbox records what exec runs, and airlock learn proposes rules that cover it',
  { skip: needsRoot, timeout: 240_000 },
  async (t) => {
    const { config } = await learnUpstream(t);
    const daemon = await startDaemon(t, {
      home: daemonHome(t),
      socket: join(socketDir(t), 'airlock.sock'),
      args: ['--config', config],
    });
    const key = { OPENAI_API_KEY: canarySecret('openai') };
    const create = async (name: string, flags: string[]) => {
      const r = await daemon.cli(['create', '--name', name, '--cred', 'OPENAI_API_KEY', ...flags], key);
      assert.equal(r.status, 0, r.stderr);
      return r;
    };

    // recording: the rule that would refuse most of it is lifted
    await create('rec', ['--learn', '--allow-endpoint', 'openai:POST:/v1/chat/completions']);
    assert.deepEqual(await execCodes(daemon, 'rec', AGENT_CURLS.agent), [200, 200, 200, 200, 200]);
    assert.equal((await daemon.cli(['rm', 'rec'])).status, 0);

    const learned = await daemon.cli(['learn', 'rec', '--json']);
    assert.equal(learned.status, 0, learned.stderr);
    const proposal = JSON.parse(learned.stdout) as Proposal;
    assert.equal(proposal.profile, 'learned-rec');
    assert.deepEqual(learnedRules(proposal), LEARNED_AGENT_RULES, 'the same rules as the SDK agent’s');
    assert.deepEqual(proposal.config.profiles['learned-rec']!.hosts, ['api.openai.com']);

    // applied (as endpoint rules of a new sandbox): the same requests pass, another is refused
    const rules = proposal.rules.map((r) => {
      const [method, glob] = r.rule.split(' ');
      return ['--allow-endpoint', `openai:${method}:${glob}`];
    });
    await create('replay', rules.flat());
    assert.deepEqual(await execCodes(daemon, 'replay', AGENT_CURLS.agent), [200, 200, 200, 200, 200]);
    assert.deepEqual(await execCodes(daemon, 'replay', AGENT_CURLS.extra), [403]);
  },
);
