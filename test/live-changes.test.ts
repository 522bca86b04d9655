import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DATABASE_FILE } from '../src/store/database.js';
import { daemonHome, execCodes, socketDir, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { fakeChat } from './helpers/fake-llm.js';
import { builtin, canarySecret } from './helpers/proxy-bench.js';
import { needsRoot } from './helpers/sandbox-bench.js';
import { sandboxUpstream } from './helpers/sandbox-upstream.js';

const CHAT =
  `curl -s -o /dev/null -w '%{http_code} ' -H 'content-type: application/json' -H "authorization: Bearer $OPENAI_API_KEY" ` +
  `-d '{"model":"gpt-test","max_tokens":100,"messages":[]}' "$OPENAI_BASE_URL/chat/completions"`;
const MODELS = `curl -s -o /dev/null -w '%{http_code} ' -H "authorization: Bearer $OPENAI_API_KEY" "$OPENAI_BASE_URL/models"`;
const GITHUB = `curl -s -o /dev/null -w '%{http_code} ' -H "authorization: Bearer $GITHUB_TOKEN" "$GITHUB_API_URL/user"`;

const codes = (daemon: TestDaemon, script: string) => execCodes(daemon, 'live', script);

test(
  'live changes to a running sandbox: endpoint rules, budgets, attach and revoke, each on record first',
  { skip: needsRoot, timeout: 240_000 },
  async (t) => {
    const chat = fakeChat();
    const hosts = [...builtin('openai').hosts, ...builtin('github').hosts];
    const { config } = await sandboxUpstream(t, hosts, (req, res, recorded) => {
      if ((req.headers.host ?? '').startsWith('api.github.com')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end('{"login":"airlock-bot"}');
      }
      if ((req.url ?? '').endsWith('/models')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end('{"object":"list","data":[]}');
      }
      return chat.handler(req, res, recorded);
    });
    const home = daemonHome(t);
    const daemon = await startDaemon(t, {
      home,
      socket: join(socketDir(t), 'airlock.sock'),
      args: ['--config', config],
    });
    const keys = { OPENAI_API_KEY: canarySecret('openai'), MY_GH: canarySecret('github') };
    const update = (args: string[]) => daemon.cli(['update', 'live', ...args], keys);

    assert.equal(
      (await daemon.cli(['create', '--name', 'live', '--cred', 'OPENAI_API_KEY'], keys)).status,
      0,
    );
    // no GitHub credential yet: no base URL for it (curl prints 000)
    assert.deepEqual(await codes(daemon, `${MODELS}; ${CHAT}; ${GITHUB}`), [200, 200, 0]);

    const rules = await update(['--allow-endpoint', 'openai:POST:/v1/chat/completions']);
    assert.equal(rules.status, 0, rules.stderr);
    assert.deepEqual(await codes(daemon, `${MODELS}; ${CHAT}`), [403, 200]);

    const budget = await update(['--budget', 'tokens=300', '--json']);
    assert.equal(budget.status, 0, budget.stderr);
    assert.deepEqual((JSON.parse(budget.stdout) as { budgets: { budget: string; used: number }[] }).budgets, [
      { budget: 'tokens=300', kind: 'tokens', limit: 300, used: 0, reserved: 0 },
    ]);
    assert.deepEqual(await codes(daemon, `${CHAT}; ${CHAT}`), [200, 429]);

    assert.equal((await update(['--cred', 'GITHUB_TOKEN=env:MY_GH'])).status, 0);
    assert.deepEqual(await codes(daemon, GITHUB), [200], 'a new command has the attached credential');

    assert.equal((await update(['--revoke', 'OPENAI_API_KEY', '--budget', 'tokens=300'])).status, 0);
    const [afterRevoke] = await codes(daemon, CHAT);
    assert.ok(afterRevoke === 403 || afterRevoke === 404, `refused after revoke: ${afterRevoke}`);
    assert.deepEqual(await codes(daemon, GITHUB), [200], 'the other credential still works');

    // a change the config refuses changes nothing and is not on record
    const refused = await update(['--cred', 'NOT_IN_CONFIG']);
    assert.equal(refused.status, 125);
    assert.match(refused.stderr, /AIRLOCK_ERR_FORBIDDEN/);
    const unknown = await daemon.cli(['update', 'nope', '--revoke', 'X']);
    assert.match(unknown.stderr, /AIRLOCK_ERR_SANDBOX_UNKNOWN/);

    const audit = await daemon.cli(['audit', '--query', 'changes', '--sandbox', 'live', '--json']);
    const rows = audit.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { name: string; kind: string; detail: string });
    assert.deepEqual(
      rows.map((r) => [r.name, r.kind, JSON.parse(r.detail) as string[]]),
      [
        ['live', 'endpoints', ['openai:POST:/v1/chat/completions']],
        ['live', 'budgets', ['tokens=300']],
        ['live', 'attach', ['GITHUB_TOKEN']],
        ['live', 'revoke', ['OPENAI_API_KEY']],
        ['live', 'budgets', ['tokens=300']],
      ],
    );
    const db = ['', '-wal'].map((s) => {
      try {
        return readFileSync(join(home, DATABASE_FILE + s)).toString('latin1');
      } catch {
        return '';
      }
    });
    assert.ok(db[0]!.length > 0, 'control: the database was read');
    for (const secret of Object.values(keys))
      assert.ok(!db.some((d) => d.includes(secret)), 'no key on record');
  },
);
