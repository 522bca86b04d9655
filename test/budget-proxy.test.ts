import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { createUsageTap } from '../src/audit/usage.js';
import {
  createBudgetLedger,
  formatBudget,
  parseBudget,
  priceTable,
  type BudgetLedger,
  type BudgetRow,
} from '../src/budget/index.js';
import { parseConfig } from '../src/config/index.js';
import { sandboxBudgets } from '../src/engine/enforced-sandbox.js';
import type { ProxyDeps } from '../src/proxy/types.js';
import { fakeChat } from './helpers/fake-llm.js';
import { startBench, type Bench } from './helpers/proxy-bench.js';

const PRICES = priceTable({ models: { 'gpt-test': { input: 2.5, output: 10 } } });

/** A proxy for OpenAI with a budget ledger, as the engine builds it, over the fake chat API. */
async function budgetBench(
  t: { after(fn: () => unknown): void },
  budgets: string[],
  chat = fakeChat(),
): Promise<{ bench: Bench; ledger: BudgetLedger; saved: BudgetRow[] }> {
  const saved: BudgetRow[] = [];
  const ledger = createBudgetLedger({
    owner: 'agent',
    sandboxId: 'sbx-agent',
    rules: budgets.map((b) => parseBudget(b, '--budget')),
    prices: PRICES,
    persist: (rows) => saved.push(...rows),
  });
  const usageTap: ProxyDeps['usageTap'] = (service, headers, onEvent) =>
    createUsageTap(service.usageFormat!, headers['content-type'] as string | undefined, { onEvent });
  const bench = await startBench(t, {
    services: ['openai'],
    handler: chat.handler,
    deps: { budget: ledger, usageTap },
  });
  return { bench, ledger, saved };
}

async function chat(bench: Bench, body: object) {
  const res = await request(`${bench.baseUrl}/proxy/openai/v1/chat/completions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${bench.cred('openai').placeholder}`,
    },
    body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], ...body }),
  });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

test('a 1,000-token budget: calls go through until it is used, then 429 with the reason, on record', async (t) => {
  const { bench, ledger, saved } = await budgetBench(t, ['tokens=1000/1h']);
  // each call: 150 prompt + 100 completion = 250 tokens
  for (let i = 0; i < 3; i++) assert.equal((await chat(bench, { max_tokens: 100 })).status, 200, `call ${i}`);
  assert.equal(ledger.view()[0]!.used, 750);

  // 250 left: a call that may use 300 is refused before it goes out
  const tooBig = await chat(bench, { max_tokens: 300 });
  assert.equal(tooBig.status, 429);
  const refusal = JSON.parse(tooBig.text) as { error: { type: string; message: string } };
  assert.equal(refusal.error.type, 'airlock_budget_exhausted');
  assert.match(
    refusal.error.message,
    /tokens=1000\/1h cannot cover this call: it may use 300 \(its max_tokens\), 250 remain/,
  );

  assert.equal((await chat(bench, { max_tokens: 100 })).status, 200, 'the last 250 fit');
  const spent = await chat(bench, { max_tokens: 1 });
  assert.equal(spent.status, 429);
  assert.match(
    spent.text,
    /the budget tokens=1000\/1h is used up \(1000 of 1000 used, 0 held by calls in flight\); it starts afresh at 20/,
  );
  assert.match(String(spent.headers['x-airlock-error']), /^airlock_budget_exhausted: /);

  assert.equal(bench.upstream.requests.length, 4, 'refused calls never reached the upstream');
  assert.deepEqual(
    bench.audit.denials.map((d) => [d.status, d.reason, d.credential]),
    [
      [429, 'airlock_budget_exhausted', 'OPENAI_API_KEY'],
      [429, 'airlock_budget_exhausted', 'OPENAI_API_KEY'],
    ],
  );
  assert.equal(saved.at(-1)!.used, 1000, 'the settled state went to the store');
  assert.equal(ledger.view()[0]!.reserved, 0, 'nothing held once the calls ended');
});

test('a stream that runs past the budget ends at an event boundary with a final event saying why', async (t) => {
  const fake = fakeChat({ unlimitedTokens: 2000 });
  const { bench, ledger } = await budgetBench(t, ['tokens=1000'], fake);
  assert.equal((await chat(bench, { max_tokens: 550 })).status, 200); // 700 used, 300 left

  // no max_tokens: the call holds what is left (300), then grows one token per event
  const stream = await chat(bench, { stream: true, stream_options: { include_usage: true } });
  assert.equal(stream.status, 200);
  const events = stream.text.split('\n\n').filter((e) => e !== '');
  const last = events.at(-1)!;
  assert.match(last, /^event: error\ndata: /);
  const data = JSON.parse(last.slice(last.indexOf('data: ') + 6)) as { error: { type: string } };
  assert.equal(data.error.type, 'airlock_budget_exhausted');
  for (const e of events.slice(0, -1)) assert.match(e, /^data: \{"id":"chatcmpl-test"/, 'whole events only');
  assert.equal(events.length - 1, 301, 'the event that crossed the budget, then the final one');
  assert.ok(!stream.text.includes('[DONE]'));

  await bench.audit.outcomesReached(2);
  assert.match(
    bench.audit.outcomes[1]!.reason ?? '',
    /^airlock_budget_exhausted: stream cut after 301 events/,
  );
  assert.equal(bench.audit.outcomes[1]!.status, 200);
  // the upstream is let go, not read to its end
  for (let i = 0; i < 50 && fake.stats.streamsCutShort === 0; i++)
    await new Promise((r) => setTimeout(r, 20));
  assert.equal(fake.stats.streamsCutShort, 1);
  assert.equal(ledger.view()[0]!.used, 1001, 'what was delivered counts');
  assert.equal((await chat(bench, { max_tokens: 1 })).status, 429);
});

test('each sandbox has its own budget: one used up leaves the other alone', async (t) => {
  const a = await budgetBench(t, ['tokens=300']);
  const b = await budgetBench(t, ['tokens=300']);
  assert.equal((await chat(a.bench, { max_tokens: 100 })).status, 200);
  assert.equal((await chat(a.bench, { max_tokens: 100 })).status, 429);
  assert.equal((await chat(b.bench, { max_tokens: 100 })).status, 200);
});

test('the estimated cost follows the price table, and a USD budget holds against it', async (t) => {
  const { bench, ledger } = await budgetBench(t, ['usd=0.004/day']);
  // by hand: (150 × $2.50 + 100 × $10) / 1e6 = $0.001375 a call
  for (let i = 0; i < 3; i++) assert.equal((await chat(bench, { max_tokens: 100 })).status, 200, `call ${i}`);
  assert.equal(ledger.spend().usd.toFixed(9), (3 * 0.001375).toFixed(9));
  assert.deepEqual(ledger.spend(), { inputTokens: 450, outputTokens: 300, usd: ledger.spend().usd });
  // $0.004125 used of $0.004: the next call is refused
  const refused = await chat(bench, { max_tokens: 100 });
  assert.equal(refused.status, 429);
  assert.match(refused.text, /usd=0.004\/1d is used up \(\$0.004125 of \$0.004 used/);
});

test('an unknown model is priced as the dearest one in the table', () => {
  const table = priceTable({ models: { cheap: { input: 1, output: 1 }, dear: { input: 10, output: 20 } } });
  const ledger = createBudgetLedger({ owner: 'x', sandboxId: 'x', rules: [], prices: table });
  ledger.settle(undefined, { model: 'never-heard-of', inputTokens: 1e6, outputTokens: 1e6 });
  ledger.settle(undefined, { model: 'cheap-2025', inputTokens: 1e6, outputTokens: 0 });
  assert.equal(
    ledger.spend().usd,
    Math.max(...Object.values(table.models).map((p) => p.input + p.output)) + 1,
  );
});

test('budgets parse as written and name the bad value', () => {
  assert.deepEqual(parseBudget('tokens=200k/1h', 'x'), {
    kind: 'tokens',
    limit: 200_000,
    windowMs: 3_600_000,
  });
  assert.deepEqual(parseBudget('usd=5/day', 'x'), { kind: 'usd', limit: 5, windowMs: 86_400_000 });
  assert.deepEqual(parseBudget('OPENAI_API_KEY:output=1m', 'x'), {
    kind: 'output',
    limit: 1_000_000,
    credential: 'OPENAI_API_KEY',
  });
  for (const bad of ['tokens=0', 'coins=5', 'usd=5k', 'tokens=10/fortnight', 'tokens=1.5', 'tokens']) {
    assert.throws(
      () => parseBudget(bad, '--budget'),
      (e: Error) => e.message.includes(`--budget ${bad}`),
      bad,
    );
  }
});

test('a call that fails midway frees what it held and counts what was delivered', async (t) => {
  const broken: ReturnType<typeof fakeChat> = {
    stats: { streams: 0, streamsCutShort: 0 },
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(
        'data: {"choices":[{"delta":{"content":"x"}}]}\n\ndata: {"choices":[{"delta":{"content":"y"}}]}\n\n',
      );
      setTimeout(() => res.socket?.destroy(), 50);
    },
  };
  const { bench, ledger } = await budgetBench(t, ['tokens=1000'], broken);
  const res = await request(`${bench.baseUrl}/proxy/openai/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-test', stream: true, max_tokens: 500 }),
  });
  await res.body.text().catch(() => undefined);
  await bench.audit.outcomesReached(1);
  assert.equal(bench.audit.outcomes[0]!.decision, 'error', 'control: the exchange failed');
  assert.deepEqual(
    ledger.view().map((b) => [b.used, b.reserved]),
    [[2, 0]],
  );
});

test('a config profile carries budgets to every sandbox that uses it, also through extends', () => {
  const loaded = parseConfig({
    profiles: {
      base: { hosts: ['api.example.com'], budgets: ['tokens=1k/1h'] },
      agent: { extends: ['base'], budgets: ['usd=2/day'] },
      other: { hosts: ['api.example.org'] },
    },
    budgets: ['output=500'],
  });
  const kinds = (profiles: string[]) => sandboxBudgets(loaded, { profiles }).map(formatBudget);
  assert.deepEqual(kinds(['agent']), ['output=500', 'usd=2/1d', 'tokens=1000/1h']);
  assert.deepEqual(kinds(['agent', 'base']), ['output=500', 'usd=2/1d', 'tokens=1000/1h']);
  assert.deepEqual(kinds(['other']), ['output=500']);
  assert.throws(
    () => parseConfig({ profiles: { p: { hosts: ['api.example.com'], budgets: ['tokens=lots'] } } }),
    /profiles\.p\.budgets/,
  );
});
