import assert from 'node:assert/strict';
import { mkdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { createAuditWriter } from '../src/audit/writer.js';
import { openDatabase, type Db } from '../src/store/database.js';
import { openTempDb } from './helpers/audit-db.js';
import { startBench, type Bench } from './helpers/proxy-bench.js';
import { fill, tinyDisk } from './helpers/tiny-disk.js';

const notRoot = process.getuid?.() !== 0 ? 'needs root to mount a tmpfs' : false;

/** The real proxy (bench) with the real audit writer on `db`. */
async function benchWithWriter(t: Parameters<typeof startBench>[0], db: Db): Promise<Bench> {
  const writer = createAuditWriter({ db });
  t.after(() => writer.close());
  return startBench(t, { services: ['openai'], deps: { audit: writer } });
}

/** One guest chat request with a unique path; returns status and parsed body. */
async function chat(bench: Bench, path: string): Promise<{ status: number; body: unknown }> {
  const res = await request(`${bench.baseUrl}/proxy/openai/v1/${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${bench.cred('openai').placeholder}`,
    },
    body: JSON.stringify({ model: 'gpt-test', messages: [] }),
  });
  return { status: res.statusCode, body: await res.body.json() };
}

function assertAudit503(answer: { status: number; body: unknown }): void {
  assert.equal(answer.status, 503);
  const { error } = answer.body as { error: { type: string; message: string } };
  assert.match(error.type, /^airlock_/);
  assert.equal(error.type, 'airlock_audit_write');
}

const rowPaths = (db: Db) => db.prepare('SELECT path FROM requests ORDER BY id').pluck().all();

test('the database locked past the busy timeout: 503, the upstream sees nothing; released: 200', async (t) => {
  const { home, db } = openTempDb(t, { busyTimeoutMs: 100 });
  const bench = await benchWithWriter(t, db);
  const other = openDatabase({ home });
  t.after(() => {
    if (other.inTransaction) other.exec('ROLLBACK');
    other.close();
  });

  other.exec('BEGIN EXCLUSIVE');
  assertAudit503(await chat(bench, 'locked'));
  assert.equal(bench.upstream.requests.length, 0, 'nothing went upstream');
  assert.equal(bench.upstream.connections, 0, 'not even a connection was opened');
  other.exec('ROLLBACK');
  assert.deepEqual(rowPaths(db), [], 'no row was committed either');

  // Positive control: the same request, lock released.
  const ok = await chat(bench, 'locked');
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.body, { ok: true });
  assert.deepEqual(
    bench.upstream.requests.map((r) => r.path),
    ['/v1/locked'],
  );
  assert.equal(bench.upstream.requests[0]?.headers.authorization, `Bearer ${bench.cred('openai').secret}`);
  assert.deepEqual(rowPaths(db), ['/v1/locked']);
});

test(
  'the database on a full disk: 503, the upstream sees nothing; space freed: 200',
  { skip: notRoot },
  async (t) => {
    const mnt = tinyDisk(t);
    const home = join(mnt, 'home');
    mkdirSync(home);
    const db = openDatabase({ home });
    t.after(() => db.close());
    const bench = await benchWithWriter(t, db);
    assert.equal((await chat(bench, 'before')).status, 200, 'works while there is room');
    assert.equal(bench.upstream.requests.length, 1);

    const filler = fill(mnt);
    for (let i = 0; i < 5; i++) assertAudit503(await chat(bench, `full/${i}`));
    assert.deepEqual(
      bench.upstream.requests.map((r) => r.path),
      ['/v1/before'],
      'nothing more went upstream',
    );

    // Positive control: the same request once there is room again.
    unlinkSync(filler);
    const ok = await chat(bench, 'full/0');
    assert.equal(ok.status, 200);
    assert.deepEqual(
      bench.upstream.requests.map((r) => r.path),
      ['/v1/before', '/v1/full/0'],
    );
    assert.deepEqual(rowPaths(db), ['/v1/before', '/v1/full/0']);
  },
);
