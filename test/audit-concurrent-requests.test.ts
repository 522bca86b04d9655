import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAuditWriter } from '../src/audit/writer.js';
import { AuditRecords } from '../src/store/audit-records.js';
import { anIntent, anOutcome, openTempDb } from './helpers/audit-db.js';

test('N concurrent requests, allowed, failed and denied, give exactly N rows with the right fields', async (t) => {
  const { db } = openTempDb(t);
  const writer = createAuditWriter({ db });
  const N = 300;
  const base = Date.parse('2025-06-01T12:00:00.000Z');

  // Every third request is denied, the rest go upstream; every fifth forwarded one fails.
  // Outcomes arrive in a scrambled order, as responses end in any order.
  const forwarded: Promise<void>[] = [];
  for (let i = 0; i < N; i++) {
    const request = anIntent({ sandboxId: `sb${i % 4}`, path: `/v1/r/${i}`, startedAt: base + i });
    if (i % 3 === 0) {
      writer.denied({ ...request, status: 403, reason: `rule ${i}` });
      continue;
    }
    forwarded.push(
      writer.intent(request).then(async (entry) => {
        await new Promise((r) => setTimeout(r, (i * 7) % 13));
        entry.finish(
          i % 5 === 0
            ? anOutcome({ decision: 'error', status: 502, reason: `upstream ${i}`, usage: undefined })
            : anOutcome({ bytesOut: i, usage: { model: 'm', inputTokens: i, outputTokens: 2 * i } }),
        );
        entry.finish(anOutcome({ status: 599 })); // a second finish changes nothing
      }),
    );
  }
  await Promise.all(forwarded);
  await writer.close();

  const rows = new AuditRecords(db).list({});
  assert.equal(rows.length, N);
  const byPath = new Map(rows.map((r) => [r.path, r]));
  assert.equal(byPath.size, N);
  for (let i = 0; i < N; i++) {
    const r = byPath.get(`/v1/r/${i}`);
    assert.ok(r, `row for request ${i}`);
    assert.equal(r.sandbox, `sb${i % 4}`);
    assert.equal(r.service, 'openai');
    assert.equal(r.credential, 'OPENAI_API_KEY');
    assert.equal(r.method, 'POST');
    assert.equal(r.host, 'api.openai.com');
    assert.equal(r.startedAt, new Date(base + i).toISOString());
    assert.ok(r.endedAt);
    if (i % 3 === 0) {
      assert.deepEqual([r.decision, r.status, r.reason], ['denied', 403, `rule ${i}`]);
    } else if (i % 5 === 0) {
      assert.deepEqual(
        [r.decision, r.status, r.reason, r.inputTokens],
        ['error', 502, `upstream ${i}`, null],
      );
    } else {
      assert.deepEqual(
        [
          r.decision,
          r.status,
          r.bytesIn,
          r.bytesOut,
          r.ttfbMs,
          r.durationMs,
          r.model,
          r.inputTokens,
          r.outputTokens,
        ],
        ['allowed', 200, 120, i, 150, 900, 'm', i, 2 * i],
      );
    }
  }
  const summary = new AuditRecords(db).summary({});
  assert.equal(summary.requests, N);
  assert.equal(summary.denied, 100);
  assert.equal(summary.errors, rows.filter((r) => r.decision === 'error').length);
  assert.equal(summary.inFlight, 0);
});
