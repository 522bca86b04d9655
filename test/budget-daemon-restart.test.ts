import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtin, canarySecret } from './helpers/proxy-bench.js';
import { daemonHome, socketDir, startDaemon } from './helpers/daemon.js';
import { fakeChat } from './helpers/fake-llm.js';
import { needsRoot } from './helpers/sandbox-bench.js';
import { sandboxUpstream } from './helpers/sandbox-upstream.js';
import { join } from 'node:path';
import type { SandboxInfo } from '../src/daemon/protocol.js';

/** `n` chat calls of max_tokens 100 from inside the sandbox, with curl; their status codes. */
const CALLS = (n: number) => [
  'sh',
  '-c',
  `for i in $(seq ${n}); do curl -s -o /dev/null -w '%{http_code} ' -H 'content-type: application/json' ` +
    `-H "authorization: Bearer $OPENAI_API_KEY" -d '{"model":"gpt-test","max_tokens":100,"messages":[]}' ` +
    `"$OPENAI_BASE_URL/chat/completions"; done`,
];

test(
  'a daemon sandbox’s budget: 429 once used, shown in ls, other sandboxes untouched, and it survives a daemon restart',
  { skip: needsRoot, timeout: 240_000 },
  async (t) => {
    const { config } = await sandboxUpstream(t, builtin('openai').hosts, fakeChat().handler);
    const home = daemonHome(t);
    const socket = join(socketDir(t), 'airlock.sock');
    const key = { OPENAI_API_KEY: canarySecret('openai') };
    const create = async (daemon: Awaited<ReturnType<typeof startDaemon>>, name: string) => {
      const r = await daemon.cli(
        ['create', '--name', name, '--cred', 'OPENAI_API_KEY', '--budget', 'tokens=1000/1h'],
        key,
      );
      assert.equal(r.status, 0, r.stderr);
    };
    const calls = async (daemon: Awaited<ReturnType<typeof startDaemon>>, name: string, n: number) => {
      const r = await daemon.cli(['exec', name, '--', ...CALLS(n)]);
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim().split(' ').map(Number);
    };

    const first = await startDaemon(t, { home, socket, args: ['--config', config] });
    await create(first, 'agent');
    await create(first, 'other');
    // 150 prompt + 100 completion tokens a call: four fit in 1,000
    assert.deepEqual(await calls(first, 'agent', 5), [200, 200, 200, 200, 429]);
    assert.deepEqual(await calls(first, 'other', 1), [200]);

    const ls = await first.cli(['ls', '--json']);
    const { sandboxes } = JSON.parse(ls.stdout) as { sandboxes: SandboxInfo[] };
    const byName = (n: string) => sandboxes.find((s) => s.name === n)!;
    assert.deepEqual(
      byName('agent').budgets.map((b) => [b.budget, b.used, b.reserved]),
      [['tokens=1000/1h', 1000, 0]],
    );
    assert.equal(byName('other').budgets[0]!.used, 250);
    assert.deepEqual(byName('agent').spend, {
      inputTokens: 600,
      outputTokens: 400,
      usd: byName('agent').spend.usd,
    });
    const table = await first.cli(['ls']);
    assert.match(table.stdout, /BUDGET/);
    assert.match(table.stdout, /tokens=1000\/1h:100%/);
    assert.match(table.stdout, /tokens=1000\/1h:25%/);

    // the daemon stops (its sandboxes with it) and starts again
    first.child.kill('SIGTERM');
    await first.exited;
    const second = await startDaemon(t, { home, socket, args: ['--config', config] });
    await create(second, 'agent');
    await create(second, 'other');
    assert.deepEqual(await calls(second, 'agent', 1), [429], 'the used-up budget stays used up');
    assert.deepEqual(await calls(second, 'other', 3), [200, 200, 200], 'the other carries on from 250');
    assert.deepEqual(await calls(second, 'other', 1), [429]);

    const audit = await second.cli(['audit', '--query', 'budget', '--json']);
    const rows = audit.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      rows.map((r) => [r.sandbox, r.used, r.remaining]),
      [
        ['agent', 1000, 0],
        ['other', 1000, 0],
      ],
    );
  },
);
