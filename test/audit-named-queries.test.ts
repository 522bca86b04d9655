import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listNamedQueries, openAuditQuery, parseTime } from '../src/audit/query.js';
import { isAirlockError } from '../src/errors.js';
import { tempHome } from './helpers/audit-db.js';
import { seedAudit } from './helpers/seed-audit.js';

/** The seeded rows each query returns, reduced to the columns that identify them. */
const EXPECTED: Record<string, { filter?: Record<string, string>; rows: Record<string, unknown>[] }> = {
  // no budget on the seeded sandboxes (test/budget-*.test.ts fill this table)
  budget: { rows: [] },
  // no live change on the seeded sandboxes (test/live-changes.test.ts fills this table)
  changes: { rows: [] },
  'denied-recent': {
    rows: [{ sandbox: 'b2', method: 'DELETE', path: '/repos/acme/app', status: 403 }],
  },
  'tokens-by-sandbox': {
    rows: [
      {
        sandbox: 'a1',
        name: 'alpha',
        requests: 5,
        llm_requests: 3,
        input_tokens: 450,
        output_tokens: 70,
        total_tokens: 520,
      },
      {
        sandbox: 'b2',
        name: 'beta',
        requests: 4,
        llm_requests: 0,
        input_tokens: 0,
        output_tokens: 0,
        total_tokens: 0,
      },
    ],
  },
  'top-endpoints': {
    rows: [
      { service: 'openai', method: 'POST', path: '/v1/chat/completions', requests: 3, denied: 0, errors: 1 },
      { service: 'anthropic', method: 'POST', path: '/v1/messages', requests: 1, denied: 0, errors: 0 },
      { service: 'github', method: 'POST', path: '/graphql', requests: 1, denied: 1, errors: 0 },
      { service: 'github', method: 'DELETE', path: '/repos/acme/app', requests: 1, denied: 1, errors: 0 },
      {
        service: 'google',
        method: 'POST',
        path: '/v1beta/models/gemini-2.5-flash:generateContent',
        requests: 1,
        denied: 0,
        errors: 1,
      },
      { service: 'openai', method: 'GET', path: '/v1/models', requests: 1, denied: 0, errors: 0 },
      { service: 'openai', method: 'POST', path: '/v1/responses', requests: 1, denied: 0, errors: 0 },
    ],
  },
  errors: {
    rows: [
      { sandbox: 'b2', status: 429, decision: 'allowed' },
      { sandbox: 'b2', status: 502, decision: 'error', reason: 'airlock_upstream' },
    ],
  },
  slowest: {
    rows: [
      { path: '/v1/messages', duration_ms: 3000 },
      { path: '/v1/chat/completions', duration_ms: 1200 },
      { path: '/v1/chat/completions', duration_ms: 800 },
      { path: '/v1beta/models/gemini-2.5-flash:generateContent', duration_ms: 100 },
      { path: '/v1/models', duration_ms: 90 },
      { path: '/v1/chat/completions', duration_ms: 50 },
    ],
  },
};

const pick = (row: Record<string, unknown>, like: Record<string, unknown>) =>
  Object.fromEntries(Object.keys(like).map((k) => [k, row[k]]));

test('every shipped named query has expected rows here', () => {
  assert.deepEqual(
    listNamedQueries().map((q) => q.name),
    Object.keys(EXPECTED).sort(),
  );
  for (const q of listNamedQueries()) assert.ok(q.description.length > 10, `${q.name} has a description`);
});

test('each shipped query returns the expected rows on a seeded database', async (t) => {
  const home = tempHome(t);
  await seedAudit(home);
  const audit = openAuditQuery({ home });
  t.after(() => audit.close());
  for (const [name, { rows }] of Object.entries(EXPECTED)) {
    const result = audit.named(name, {});
    assert.deepEqual(
      result.rows.map((r, i) => pick(r, rows[i] ?? {})),
      rows,
      name,
    );
  }
});

test('named queries take the filters: window, sandbox (by name), service, limit', async (t) => {
  const home = tempHome(t);
  const now = await seedAudit(home);
  const audit = openAuditQuery({ home });
  t.after(() => audit.close());
  const since = parseTime('7d', '--since', now);
  assert.equal(audit.named('denied-recent', { since }).rows.length, 2, 'with --since, older denials too');
  const alpha = audit.named('tokens-by-sandbox', { sandbox: 'alpha' }).rows;
  assert.deepEqual(
    alpha.map((r) => [r.sandbox, r.total_tokens]),
    [['a1', 520]],
  );
  const recent = audit.named('tokens-by-sandbox', { since: parseTime('1h', '--since', now) }).rows;
  assert.deepEqual(
    recent.map((r) => [r.sandbox, r.requests]),
    [
      ['a1', 4],
      ['b2', 3],
    ],
  );
  assert.equal(audit.named('slowest', { service: 'openai', limit: 2 }).rows.length, 2);
  assert.throws(
    () => audit.named('nope', {}),
    (e: unknown) => isAirlockError(e) && e.code === 'AIRLOCK_ERR_AUDIT_QUERY' && e.message.includes('nope'),
  );
});
