import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from './helpers/cli.js';
import { respond } from './helpers/fake-upstream.js';
import { bundleForGuest } from './helpers/guest-bundle.js';
import { canarySecret } from './helpers/proxy-bench.js';
import { needsRoot, shareFlags } from './helpers/sandbox-bench.js';
import { sandboxUpstream } from './helpers/sandbox-upstream.js';
import { wsStandIn } from './helpers/ws-stand-in.js';

interface GuestResult {
  allowed: { status: number; got: (string | number[])[]; code: number };
  denied: { status: number; body: string };
}

test(
  'a WebSocket client in a sandbox reaches a stand-in through the base URL with the key injected; a disallowed path is refused; the session is audited',
  { skip: needsRoot, timeout: 60_000 },
  async (t) => {
    const secret = canarySecret('openai');
    const { upstream, home, config } = await sandboxUpstream(t, ['api.openai.com'], respond.json(404, {}));
    const standIn = wsStandIn(upstream, secret);
    const guest = await bundleForGuest(t, 'websocket-guest.mjs');
    const run = await runCli(
      ['run', ...shareFlags(), '--config', config, '--profile', 'llm-only', '--cred', 'OPENAI_API_KEY',
       '--allow-endpoint', 'openai:GET:/v1/realtime', '--', 'node', guest],
      { AIRLOCK_HOME: home, OPENAI_API_KEY: secret },
    ); // prettier-ignore
    assert.equal(run.status, 0, run.stderr);
    assert.ok(
      !run.stdout.includes(secret) && !run.stderr.includes(secret),
      'the key never reached the guest',
    );
    const { allowed, denied } = JSON.parse(run.stdout.trim().split('\n').pop()!) as GuestResult;

    assert.equal(allowed.code, 1000);
    assert.equal(allowed.got[0], 'hello');
    assert.deepEqual(allowed.got[1], [1, 2, 3]);
    assert.match(allowed.got[2] as string, /"authorization":"Bearer sk-/, 'the echo holds the placeholder');
    assert.deepEqual(
      standIn.handshakes.map((h) => [h.path, h.headers.authorization]),
      [['/v1/realtime?model=gpt-test', `Bearer ${secret}`]],
      'one handshake upstream, with the real key; the disallowed path never left',
    );
    assert.equal(denied.status, 403);
    assert.equal(
      (JSON.parse(denied.body) as { error: { type: string } }).error.type,
      'airlock_policy_denied',
    );

    const audit = await runCli(['audit', '--json', '--limit', '10'], { AIRLOCK_HOME: home });
    const rows = audit.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const pick = (r: Record<string, unknown>) => [r.method, r.path, r.status, r.decision];
    assert.deepEqual(rows.map(pick).sort(), [
      ['GET', '/v1/files', 403, 'denied'],
      ['GET', '/v1/realtime', 101, 'allowed'],
    ]);
    const session = rows.find((r) => r.status === 101)!;
    assert.equal(session.bytesIn, 5 + 3 + 4, 'message bytes the guest sent');
    assert.equal(session.bytesOut, 5 + 3 + (allowed.got[2] as string).length, 'message bytes it received');
    assert.equal(typeof session.durationMs, 'number');
  },
);
