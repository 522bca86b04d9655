import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { Agent, request } from 'undici';
import { createAuditWriter } from '../src/audit/writer.js';
import { AuditRecords } from '../src/store/audit-records.js';
import { openTempDb } from './helpers/audit-db.js';
import { grantAll } from './helpers/policy.js';
import { builtin, startBench } from './helpers/proxy-bench.js';

const N = 200;
const SERVICES = ['openai', 'anthropic', 'github'] as const;
type Kind = 'ok' | 'fail' | 'deny';

/** Request i: which service, what happens to it, and whether it carries a body. */
function plan(i: number) {
  const service = SERVICES[i % SERVICES.length]!;
  const kind: Kind = i % 5 === 0 ? 'deny' : i % 5 === 1 ? 'fail' : 'ok';
  const body = i % 2 === 0 ? JSON.stringify({ n: i, pad: 'x'.repeat(i * 7) }) : undefined;
  return { service, kind, body, method: body ? 'POST' : 'GET', path: `/v1/mix/${kind}/${i}` };
}

/** The real policy: every service's endpoint rules allow /v1/mix/ok/* and /v1/mix/fail/*, so /v1/mix/deny/* is refused. */
const policy = grantAll(
  SERVICES.map((s) => builtin(s)),
  { allowEndpoints: SERVICES.flatMap((s) => [`${s}:*:/v1/mix/ok/*`, `${s}:*:/v1/mix/fail/*`]) },
);

/** Every byte of airlock.db, its WAL and shared-memory file. */
function rawFiles(home: string): Buffer[] {
  return ['airlock.db', 'airlock.db-wal', 'airlock.db-shm']
    .map((f) => join(home, f))
    .filter(existsSync)
    .map((f) => readFileSync(f));
}

test(`${N} concurrent requests through the real proxy and writer: exactly ${N} rows, right fields, no secret`, async (t) => {
  const { home, db } = openTempDb(t);
  const writer = createAuditWriter({ db });
  t.after(() => writer.close());
  const bench = await startBench(t, {
    services: [...SERVICES],
    sandboxId: 'sbx-concurrent',
    deps: { audit: writer, policy },
    // failing paths get a 500; the others an answer that echoes the (real) key header the proxy
    // sent, which its scrubber must turn back into the placeholder on the way out
    handler: (req, res, recorded) => {
      const status = recorded.path.includes('/mix/fail/') ? 500 : 200;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          path: recorded.path,
          got: recorded.bodyLength,
          auth: req.headers.authorization ?? req.headers['x-api-key'],
        }),
      );
    },
  });
  const agent = new Agent({ connections: N });
  t.after(() => agent.close());

  const answers = await Promise.all(
    Array.from({ length: N }, async (_, i) => {
      const p = plan(i);
      const res = await request(`${bench.baseUrl}/proxy/${p.service}${p.path}`, {
        dispatcher: agent,
        method: p.method,
        headers: {
          authorization: `Bearer ${bench.cred(p.service).placeholder}`,
          ...(p.body ? { 'content-type': 'application/json' } : {}),
        },
        body: p.body,
      });
      const received = Buffer.from(await res.body.arrayBuffer());
      return { ...p, status: res.statusCode, received };
    }),
  );
  // outcomes are committed after the responses end: wait until none is in flight
  const inFlight = db.prepare('SELECT count(*) FROM requests WHERE decision IS NULL').pluck();
  while ((inFlight.get() as number) > 0) {
    await writer.flush();
    await sleep(5);
  }

  const expectedStatus: Record<Kind, number> = { ok: 200, fail: 500, deny: 403 };
  for (const a of answers) assert.equal(a.status, expectedStatus[a.kind], `${a.method} ${a.path}`);
  assert.equal(
    bench.upstream.requests.length,
    answers.filter((a) => a.kind !== 'deny').length,
    'denied requests never reach the upstream',
  );

  const rows = new AuditRecords(db).list({ limit: N + 100 });
  assert.equal(rows.length, N, 'exactly one row per request');
  const byPath = new Map(rows.map((r) => [r.path, r]));
  assert.equal(byPath.size, N);
  for (const a of answers) {
    const row = byPath.get(a.path);
    assert.ok(row, `a row for ${a.path}`);
    const service = bench.services.find((s) => s.name === a.service)!;
    const where = `${a.method} ${a.path}`;
    assert.deepEqual(
      [row.sandbox, row.service, row.credential, row.method, row.host, row.query],
      ['sbx-concurrent', a.service, service.envVar, a.method, new URL(service.upstream).host, null],
      where,
    );
    assert.equal(row.status, expectedStatus[a.kind], where);
    assert.ok(row.endedAt, where);
    assert.ok(row.endedAt >= row.startedAt, where);
    if (a.kind === 'deny') {
      assert.deepEqual(
        [row.decision, row.reason, row.bytesIn, row.bytesOut],
        ['denied', 'airlock_policy_denied', 0, 0],
        where,
      );
    } else {
      assert.equal(row.decision, 'allowed', where);
      assert.equal(row.reason, null, where);
      // bytes_in: the request body from the guest; bytes_out: the response body to the guest
      assert.equal(row.bytesIn, a.body ? Buffer.byteLength(a.body) : 0, `${where}: bytes in`);
      assert.equal(row.bytesOut, a.received.length, `${where}: bytes out`);
      assert.ok(row.bytesOut > 0, where);
      assert.ok(row.ttfbMs !== null && row.durationMs !== null && row.ttfbMs <= row.durationMs, where);
    }
  }
  const summary = new AuditRecords(db).summary({});
  assert.equal(summary.requests, N);
  assert.equal(summary.denied, answers.filter((a) => a.kind === 'deny').length);
  assert.equal(summary.errors, answers.filter((a) => a.kind === 'fail').length);
  assert.equal(summary.inFlight, 0);

  // The upstream did get the real keys (and echoed them), yet no secret is in any database file.
  for (const r of bench.upstream.requests) {
    const secret = bench.secrets.find((s) => JSON.stringify(r.headers).includes(s));
    assert.ok(secret, `${r.path} went upstream with a real key`);
  }
  const files = rawFiles(home);
  assert.ok(files.length >= 2, 'the WAL exists while the writer runs');
  assert.ok(
    files.some((b) => b.includes('/v1/mix/ok/2')),
    'the search sees row text in the raw files',
  );
  for (const secret of bench.secrets) {
    for (const bytes of files) assert.ok(!bytes.includes(secret), 'a real secret is in a database file');
  }
});
