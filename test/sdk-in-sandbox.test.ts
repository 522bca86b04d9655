import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BUILTIN_SERVICES } from '../src/catalogue/builtin.js';
import { DATABASE_FILE } from '../src/store/database.js';
import { runCli } from './helpers/cli.js';
import { fakeApis } from './helpers/fake-apis.js';
import { bundleForGuest } from './helpers/guest-bundle.js';
import { canarySecret } from './helpers/proxy-bench.js';
import { guestFixture, needsRoot, shareFlags } from './helpers/sandbox-bench.js';
import { sandboxUpstream } from './helpers/sandbox-upstream.js';

/** Each official SDK as an agent would run it: inside a real sandbox, via `airlock run`. */
const CASES = [
  { service: 'openai', script: 'sdk/openai.mjs', result: 'gpt-test', header: 'authorization', bearer: true },
  {
    service: 'anthropic',
    script: 'sdk/anthropic.mjs',
    result: 'hi from anthropic',
    header: 'x-api-key',
    bearer: false,
  },
  {
    service: 'google',
    script: 'sdk/google.mjs',
    result: 'hi from gemini',
    header: 'x-goog-api-key',
    bearer: false,
  },
  {
    service: 'huggingface',
    script: 'sdk/huggingface.mjs',
    result: 'hi from hf',
    header: 'authorization',
    bearer: true,
  },
  {
    service: 'github',
    script: 'sdk/github.mjs',
    result: 'airlock-bot',
    header: 'authorization',
    bearer: true,
  },
  { service: 'openai', script: 'sdk/curl.sh', result: undefined, header: 'authorization', bearer: true },
] as const;

test(
  'official SDKs and curl work unchanged inside a sandbox; the key never enters it',
  { skip: needsRoot },
  async (t) => {
    const services = BUILTIN_SERVICES.filter((s) => CASES.some((c) => c.service === s.name));
    const { upstream, home, config } = await sandboxUpstream(
      t,
      services.flatMap((s) => s.hosts),
      fakeApis,
    );
    const secrets = Object.fromEntries(services.map((s) => [s.envVar, canarySecret(s.name)]));

    for (const c of CASES) {
      await t.test(`${c.script} → ${c.service}`, async (st) => {
        const service = services.find((s) => s.name === c.service)!;
        const secret = secrets[service.envVar]!;
        const program = c.script.endsWith('.sh')
          ? ['sh', guestFixture(st, c.script)]
          : ['node', await bundleForGuest(st, c.script)];
        const before = upstream.requests.length;
        const run = await runCli(
          ['run', ...shareFlags(), '--config', config, '--cred', service.envVar, '--', ...program],
          {
            ...secrets,
            AIRLOCK_HOME: home,
          },
        );
        assert.equal(run.status, 0, `${c.script}: ${run.stderr}${run.stdout}`);
        const line = JSON.parse(run.stdout.trim().split('\n').pop()!) as { ok: boolean; result: unknown };
        assert.equal(line.ok, true);
        if (c.result !== undefined) assert.equal(line.result, c.result);

        const seen = upstream.requests.slice(before);
        assert.equal(seen.length, 1, 'exactly one upstream request');
        const wire = `${seen[0]!.path}\n${seen[0]!.rawHeaders.join('\n')}`;
        assert.equal(wire.split(secret).length - 1, 1, 'the real key, exactly once');
        assert.equal(seen[0]!.headers[c.header], c.bearer ? `Bearer ${secret}` : secret);
        assert.doesNotMatch(
          wire,
          /airlock-|sk-ant-airlock|ghp_|hf_[A-Za-z0-9]{34}/,
          'no placeholder upstream',
        );
        for (const s of Object.values(secrets)) {
          assert.ok(
            !run.stdout.includes(s) && !run.stderr.includes(s),
            'no real key in the guest’s output or airlock’s',
          );
        }
      });
    }

    // the audit log has every call, with the credential's name and never its value
    const audit = await runCli(['audit', '--json', '--limit', '50'], { AIRLOCK_HOME: home });
    const rows = audit.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(rows.length, CASES.length);
    assert.ok(rows.every((r) => r.decision === 'allowed' && r.status === 200));
    const anthropic = rows.find((r) => r.service === 'anthropic')!;
    assert.equal(anthropic.credential, 'ANTHROPIC_API_KEY');
    assert.equal(anthropic.inputTokens, 3);
    assert.equal(anthropic.outputTokens, 4);
    const raw = ['', '-wal', '-shm'].map((suffix) => {
      try {
        return readFileSync(join(home, DATABASE_FILE + suffix)).toString('latin1');
      } catch {
        return '';
      }
    });
    assert.ok(raw[0]!.length > 0, 'control: the database was read');
    for (const s of Object.values(secrets))
      assert.ok(!raw.some((r) => r.includes(s)), 'no real key in the database or WAL');
  },
);
