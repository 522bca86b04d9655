import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { SandboxInfo } from '../src/daemon/protocol.js';
import { runCli } from './helpers/cli.js';
import { daemonHome, execCodes, socketDir, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { fakeChat } from './helpers/fake-llm.js';
import { builtin, canarySecret } from './helpers/proxy-bench.js';
import { needsRoot, openaiRunArgs } from './helpers/sandbox-bench.js';
import { sandboxUpstream } from './helpers/sandbox-upstream.js';

const CURL =
  `curl -s -o /dev/null -H 'content-type: application/json' -H "authorization: Bearer $OPENAI_API_KEY" ` +
  `-d '{"model":"gpt-test","max_tokens":10,"messages":[]}' "$OPENAI_BASE_URL/chat/completions"`;
/** `n` chat calls, each printing its status and a space */
const CHATS = (n: number) => `for i in $(seq ${n}); do ${CURL} -w '%{http_code} '; done`;
/** one chat call printing its status and its Retry-After header (`-` when none) */
const CHAT_RETRY = `${CURL} -D - | tr -d '\\r' | sed -n 's/^[Rr]etry-[Aa]fter: \\(.*\\)/\\1/p' | grep . || echo -`;
const RATE = 'openai:POST:/v1/chat/completions 3/1h';

test(
  'a rated endpoint rule in real sandboxes: the guest’s 4th request gets 429 with Retry-After, per sandbox, across a daemon restart; update clears rates and budgets',
  { skip: needsRoot, timeout: 300_000 },
  async (t) => {
    const { config, home: runHome } = await sandboxUpstream(t, builtin('openai').hosts, fakeChat().handler);
    const home = daemonHome(t);
    const socket = join(socketDir(t), 'airlock.sock');
    const key = { OPENAI_API_KEY: canarySecret('openai') };
    const create = async (daemon: TestDaemon, name: string) => {
      const r = await daemon.cli(
        ['create', '--name', name, '--cred', 'OPENAI_API_KEY', '--allow-endpoint', RATE],
        key,
      );
      assert.equal(r.status, 0, r.stderr);
    };

    const first = await startDaemon(t, { home, socket, args: ['--config', config] });
    await create(first, 'agent');
    await create(first, 'other');
    assert.deepEqual(await execCodes(first, 'agent', CHATS(4)), [200, 200, 200, 429]);
    const retry = await first.cli(['exec', 'agent', '--', 'sh', '-c', CHAT_RETRY]);
    const seconds = Number(retry.stdout.trim());
    assert.ok(seconds > 3500 && seconds <= 3600, `Retry-After: ${retry.stdout}`);
    assert.deepEqual(await execCodes(first, 'other', CHATS(1)), [200], 'another sandbox has its own count');

    const { sandboxes } = JSON.parse((await first.cli(['ls', '--json'])).stdout) as {
      sandboxes: SandboxInfo[];
    };
    assert.deepEqual(
      sandboxes.map((s) => [s.name, s.budgets.map((b) => [b.budget, b.kind, b.used])]).sort(),
      [
        ['agent', [[RATE, 'requests', 3]]],
        ['other', [[RATE, 'requests', 1]]],
      ],
    );
    assert.match((await first.cli(['ls'])).stdout, /openai:POST:\/v1\/chat\/completions 3\/1h:100%/);

    // the daemon stops and starts again: the counts are where they were
    first.child.kill('SIGTERM');
    await first.exited;
    const second = await startDaemon(t, { home, socket, args: ['--config', config] });
    await create(second, 'agent');
    await create(second, 'other');
    assert.deepEqual(await execCodes(second, 'agent', CHATS(1)), [429], 'the used-up rate stays used up');
    assert.deepEqual(await execCodes(second, 'other', CHATS(3)), [200, 200, 429]);
    const audit = await second.cli(['audit', '--query', 'budget', '--json']);
    assert.deepEqual(
      audit.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .map((r) => [r.sandbox, r.credential, r.kind, r.endpoint, r.used, r.remaining, r.window_seconds]),
      [
        ['agent', 'OPENAI_API_KEY', 'requests', 'POST /v1/chat/completions', 3, 0, 3600],
        ['other', 'OPENAI_API_KEY', 'requests', 'POST /v1/chat/completions', 3, 0, 3600],
      ],
    );

    // live: clear the rules (and their rate), set a request budget, clear it
    const update = async (args: string[]) => {
      const r = await second.cli(['update', 'agent', ...args]);
      assert.equal(r.status, 0, r.stderr);
    };
    await update(['--allow-endpoint', 'none']);
    assert.deepEqual(await execCodes(second, 'agent', CHATS(2)), [200, 200], 'no rule, no rate');
    await update(['--budget', 'requests=1/1h']);
    assert.deepEqual(await execCodes(second, 'agent', CHATS(2)), [200, 429]);
    await update(['--budget', 'none']);
    assert.deepEqual(await execCodes(second, 'agent', CHATS(1)), [200]);
    const changes = await second.cli(['audit', '--query', 'changes', '--sandbox', 'agent', '--json']);
    assert.deepEqual(
      changes.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { kind: string; detail: string })
        .map((r) => [r.kind, JSON.parse(r.detail) as string[]]),
      [
        ['endpoints', []],
        ['budgets', ['requests=1/1h']],
        ['budgets', []],
      ],
    );

    // airlock run: the rate in the exit summary
    const run = await runCli(
      openaiRunArgs(
        ['--config', config, '--allow-endpoint', 'openai:POST:/v1/chat/completions 2/1h'],
        ['sh', '-c', CHATS(3)],
      ),
      {
        ...key,
        AIRLOCK_HOME: runHome,
      },
    );
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(run.stdout.trim().split(' ').map(Number), [200, 200, 429]);
    assert.match(run.stderr, /budget openai:POST:\/v1\/chat\/completions 2\/1h: 2 of 2 used/);
  },
);
