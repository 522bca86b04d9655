import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import {
  createBudgetLedger,
  endpointRates,
  formatBudget,
  parseBudget,
  priceTable,
  type BudgetLedger,
  type BudgetRow,
} from '../src/budget/index.js';
import { parseEndpointFlag, parseEndpointRule, type SandboxPolicy } from '../src/policy/index.js';
import { BudgetRecords } from '../src/store/budget-records.js';
import { openTempDb } from './helpers/audit-db.js';
import { grantAll } from './helpers/policy.js';
import { builtin, startBench, type Bench } from './helpers/proxy-bench.js';

test('an endpoint rule may carry a request rate, COUNT/WINDOW as budgets write windows', () => {
  const r = parseEndpointRule('POST /v1/chat/* 60/1m', 'test');
  assert.ok(r.ok);
  assert.deepEqual([r.rule.text, r.rule.rate], ['POST /v1/chat/*', { limit: 60, windowMs: 60_000 }]);
  const words = parseEndpointRule('GET /v1/models 1k/hour', 'test');
  assert.ok(words.ok);
  assert.deepEqual(words.rule.rate, { limit: 1000, windowMs: 3_600_000 });
  for (const bad of [
    'POST /v1/chat 0/1m',
    'POST /v1/chat 60',
    'POST /v1/chat 60/1x',
    'POST /v1/chat 1.5/1m',
  ]) {
    assert.equal(parseEndpointRule(bad, 'test').ok, false, bad);
  }
  const flag = parseEndpointFlag('openai:POST:/v1/chat/* 60/1m');
  assert.ok(flag.ok);
  assert.deepEqual([flag.service, flag.rule.text, flag.rule.rate?.limit], ['openai', 'POST /v1/chat/*', 60]);
  assert.equal(parseEndpointFlag('openai:POST:/v1/chat/* 60/1m more').ok, false);

  assert.deepEqual(parseBudget('requests=600/1h', '--budget'), {
    kind: 'requests',
    limit: 600,
    windowMs: 3_600_000,
  });
  assert.throws(() => parseBudget('requests=1.5', '--budget'), /whole number/);
  const policy = grantAll([builtin('openai')], { allowEndpoints: ['openai:POST:/v1/chat/* 60/1m'] });
  assert.deepEqual(endpointRates(policy).map(formatBudget), ['openai:POST:/v1/chat/* 60/1m']);
});

/** A proxy for OpenAI and GitHub whose ledger holds `budgets` and the policy's rates, as the engine builds it. */
async function ratedBench(
  t: { after(fn: () => unknown): void },
  policy: SandboxPolicy,
  budgets: string[] = [],
  saved: BudgetRow[] = [],
): Promise<{ bench: Bench; ledger: BudgetLedger; rows: BudgetRow[]; clock: { ms: number } }> {
  const rows: BudgetRow[] = [];
  const clock = { ms: Date.now() };
  const ledger = createBudgetLedger({
    owner: 'agent',
    sandboxId: 'sbx-agent',
    rules: [...budgets.map((b) => parseBudget(b, '--budget')), ...endpointRates(policy)],
    prices: priceTable(),
    saved,
    persist: (r) => rows.push(...r),
    now: () => clock.ms,
  });
  const bench = await startBench(t, { services: ['openai', 'github'], deps: { policy, budget: ledger } });
  return { bench, ledger, rows, clock };
}

async function send(bench: Bench, method: string, service: string, path: string) {
  const res = await request(`${bench.baseUrl}/proxy/${service}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${bench.cred(service).placeholder}`,
      'content-type': 'application/json',
    },
    body: method === 'POST' ? '{"model":"gpt-test","max_tokens":10,"messages":[]}' : null,
  });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

test('a rated endpoint rule: N requests per window, then 429 with Retry-After, counted in the budget ledger', async (t) => {
  // the unrated catch-all comes first: a rated rule that matches counts all the same
  const policy = grantAll([builtin('openai'), builtin('github')], {
    allowEndpoints: [
      'openai:POST:/v1/**',
      'openai:POST:/v1/chat/completions 2/1m',
      'openai:GET:/v1/models',
      'github:GET:/user',
    ],
  });
  const { bench, ledger, rows, clock } = await ratedBench(t, policy);
  const chat = () => send(bench, 'POST', 'openai', '/v1/chat/completions');
  assert.deepEqual([(await chat()).status, (await chat()).status], [200, 200]);
  const refused = await chat();
  assert.equal(refused.status, 429);
  const body = JSON.parse(refused.text) as { error: { type: string; message: string } };
  assert.equal(body.error.type, 'airlock_budget_exhausted');
  assert.match(
    body.error.message,
    /^the request rate openai:POST:\/v1\/chat\/completions 2\/1m is used up \(2 of 2 requests made, 0 held by calls in flight\); it starts afresh at 20/,
  );
  const retryAfter = Number(refused.headers['retry-after']);
  assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);

  // other endpoints of the same service are not rated
  for (let i = 0; i < 3; i++) assert.equal((await send(bench, 'GET', 'openai', '/v1/models')).status, 200);
  assert.equal((await send(bench, 'POST', 'openai', '/v1/embeddings')).status, 200);
  assert.equal(bench.upstream.requests.length, 6, 'the refused call never left');
  assert.deepEqual(
    bench.audit.denials.map((d) => [d.status, d.reason, d.path]),
    [[429, 'airlock_budget_exhausted', '/v1/chat/completions']],
  );
  assert.deepEqual(
    ledger.view().map((v) => [v.budget, v.kind, v.used, v.reserved]),
    [['openai:POST:/v1/chat/completions 2/1m', 'requests', 2, 0]],
  );
  assert.deepEqual(
    rows.map((r) => [r.credential, r.kind, r.endpoint, r.used, r.windowMs]),
    [
      ['OPENAI_API_KEY', 'requests', 'POST /v1/chat/completions', 1, 60_000],
      ['OPENAI_API_KEY', 'requests', 'POST /v1/chat/completions', 2, 60_000],
    ],
    'each settled request went to the store',
  );

  clock.ms += 60_000; // the window starts afresh
  assert.equal((await chat()).status, 200);
});

test('a sandbox-wide request budget counts every credentialed request, survives in its stored rows, and binds one sandbox only', async (t) => {
  const policy = grantAll([builtin('openai'), builtin('github')]);
  const a = await ratedBench(t, policy, ['requests=3', 'GITHUB_TOKEN:requests=1/1h']);
  assert.equal((await send(a.bench, 'GET', 'github', '/user')).status, 200);
  const github = await send(a.bench, 'GET', 'github', '/user');
  assert.equal(github.status, 429, 'the GitHub credential’s own budget');
  assert.match(github.text, /the request budget GITHUB_TOKEN:requests=1\/1h is used up/);
  assert.ok(Number(github.headers['retry-after']) > 3500);
  assert.equal((await send(a.bench, 'GET', 'openai', '/v1/models')).status, 200);
  assert.equal((await send(a.bench, 'POST', 'openai', '/v1/chat/completions')).status, 200);
  const spent = await send(a.bench, 'GET', 'openai', '/v1/models');
  assert.equal(spent.status, 429);
  assert.match(spent.text, /the request budget requests=3 is used up \(3 of 3 requests made/);
  assert.equal(spent.headers['retry-after'], undefined, 'no window: it never starts afresh');

  // a sandbox of the same name made again (a new run, a daemon restart) starts from the stored rows
  // (the store keeps one row per budget: the last one written)
  const stored = [...new Map(a.rows.map((r) => [`${r.credential} ${r.kind} ${r.windowMs}`, r])).values()];
  const again = await ratedBench(t, policy, ['requests=3'], stored);
  assert.equal((await send(again.bench, 'GET', 'openai', '/v1/models')).status, 429);
  // another sandbox has its own count
  const other = await ratedBench(t, policy, ['requests=3']);
  assert.equal((await send(other.bench, 'GET', 'openai', '/v1/models')).status, 200);
});

test('the budgets table keeps one row per rated endpoint rule (a request and a token budget side by side)', (t) => {
  const { db } = openTempDb(t);
  const records = new BudgetRecords(db);
  const at = Date.parse('2026-12-02T08:00:00Z');
  const row = { owner: 'agent', sandbox: 'sbx', credential: 'OPENAI_API_KEY', windowMs: 60_000, limit: 2 };
  const rate = { ...row, kind: 'requests' as const, windowStart: at, updatedAt: at };
  records.save([
    { ...rate, endpoint: 'POST /v1/chat/*', used: 1 },
    { ...rate, endpoint: 'GET /v1/models', used: 2 },
    { ...rate, endpoint: 'POST /v1/chat/*', used: 2 },
    { ...rate, kind: 'tokens', endpoint: '', limit: 1000, used: 250 },
  ]);
  assert.deepEqual(
    records
      .load('agent')
      .map((r) => [r.kind, r.endpoint, r.used])
      .sort(),
    [
      ['requests', 'GET /v1/models', 2],
      ['requests', 'POST /v1/chat/*', 2],
      ['tokens', '', 250],
    ],
  );
});
