import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { Pool } from 'undici';
import { openDatabase } from '../src/store/database.js';
import { tempHome } from './helpers/audit-db.js';
import { createFakeUpstream } from './helpers/fake-upstream.js';
import { builtin, canarySecret } from './helpers/proxy-bench.js';
import { createTestCa } from './helpers/test-ca.js';

const CHILD = new URL('./fixtures/audit-proxy-crash-child.ts', import.meta.url).pathname;
const KILLS = 55;
/** guest requests in flight at once while the proxy runs */
const CONCURRENCY = 32;
/** answers back before the kill timer starts: the proxy is past its cold start */
const WARM = 8;

interface Ready {
  port: number;
  synchronous: number;
  recovered: number;
}

/**
 * A proxy process, spawned ahead of time: it loads its modules, then waits for its input
 * line before it touches the database, so the parent can check the database first.
 */
function spawnChild(home: string, children: Set<ChildProcessWithoutNullStreams>) {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, home], { stdio: 'pipe' });
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      children.delete(child);
      resolve();
    }),
  );
  const lines = createInterface({ input: child.stdout });
  const ready = new Promise<Ready | undefined>((resolve) => {
    lines.once('line', (line) => resolve(JSON.parse(line) as Ready));
    child.once('exit', () => resolve(undefined));
  });
  return { child, exited, ready, stderr: () => stderr };
}

/** Guest traffic: CONCURRENCY loops of POSTs with unique paths, until `stop()`. */
function load(port: number, next: () => number) {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONCURRENCY });
  let stopped = false;
  let answered = 0;
  let warmed: () => void = () => {};
  const warm = new Promise<void>((resolve) => (warmed = resolve));
  const loop = async () => {
    while (!stopped) {
      try {
        const res = await pool.request({
          method: 'POST',
          path: `/proxy/openai/v1/crash/${next()}`,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'gpt-test', input: 'x'.repeat(64) }),
        });
        await res.body.text();
        if (++answered === WARM) warmed();
      } catch {
        warmed();
        return; // the proxy is gone
      }
    }
  };
  const loops = Promise.all(Array.from({ length: CONCURRENCY }, loop));
  return {
    /** resolves once WARM answers are back (or the proxy is gone) */
    warm,
    answered: () => answered,
    async stop() {
      stopped = true;
      await loops;
      await pool.destroy();
    },
  };
}

test(
  `kill -9 the real proxy + audit writer under load, ${KILLS} times: every request the upstream received has a committed row`,
  { timeout: 180_000 },
  async (t) => {
    const home = tempHome(t);
    const ca = createTestCa(t);
    const secret = canarySecret('openai');
    // responses take 0–10 ms, so kills find requests in flight
    const upstream = await createFakeUpstream({
      ca,
      hostnames: builtin('openai').hosts,
      t,
      handler: (_req, res) => {
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"ok":true}');
        }, Math.random() * 10);
      },
    });
    const children = new Set<ChildProcessWithoutNullStreams>();
    t.after(async () => {
      for (const c of children) {
        const gone = new Promise((r) => c.once('exit', r));
        c.kill('SIGKILL');
        await gone;
      }
    });
    const input = `${JSON.stringify({ sandboxId: 'sbx-crash', upstreamPort: upstream.port, caPem: ca.caPem, secret })}\n`;

    let n = 0;
    let answered = 0;
    let recoveredTotal = 0;
    let earlyKills = 0;
    let killsWithOpenRows = 0;
    /** rows the last check found without an outcome (the next start must make them `unknown`) */
    let open: number[] = [];
    const started = Date.now();

    /** After a start: the child ran FULL and recovery left no row without an outcome. */
    const checkRecovered = (ready: Ready) => {
      assert.equal(ready.synchronous, 2, 'the proxy process runs with PRAGMA synchronous = FULL (2)');
      recoveredTotal += ready.recovered;
      const db = openDatabase({ home, readonly: true });
      try {
        assert.equal(db.prepare('SELECT count(*) FROM requests WHERE decision IS NULL').pluck().get(), 0);
        const decisions = db.prepare('SELECT decision FROM requests WHERE id = ?').pluck();
        for (const id of open) assert.equal(decisions.get(id), 'unknown', `row ${id} became unknown`);
      } finally {
        db.close();
      }
      open = [];
    };

    /** After a kill: every request the upstream received so far has a committed row. */
    const checkCommitted = (run: number) => {
      const db = openDatabase({ home, readonly: true });
      try {
        assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
        const paths = new Set(db.prepare('SELECT path FROM requests').pluck().all() as string[]);
        const missing = upstream.requests.filter((r) => !paths.has(r.path)).map((r) => r.path);
        assert.deepEqual(missing, [], `run ${run}: requests the upstream received without a row`);
        open = db.prepare('SELECT id FROM requests WHERE decision IS NULL').pluck().all() as number[];
        if (open.length > 0) killsWithOpenRows++;
      } finally {
        db.close();
      }
    };

    let next = spawnChild(home, children);
    for (let run = 0; run < KILLS; run++) {
      const current = next;
      current.child.stdin.write(input);
      // the next process loads its modules meanwhile; it touches the database only once told to
      next = spawnChild(home, children);
      const early = run % 5 === 4;
      if (early) {
        // during start-up: opening, migrating, recovering, listening
        await sleep(Math.random() * 30);
      } else {
        const ready = await current.ready;
        assert.ok(ready, `the proxy process did not start: ${current.stderr()}`);
        checkRecovered(ready);
        const traffic = load(ready.port, () => n++);
        // under load (the first answers are back), then a random moment
        await traffic.warm;
        await sleep(Math.random() * 100);
        current.child.kill('SIGKILL');
        await current.exited;
        await traffic.stop();
        answered += traffic.answered();
      }
      current.child.kill('SIGKILL');
      await current.exited;
      if (early && !(await current.ready)) earlyKills++;
      checkCommitted(run);
    }
    // one last start: the rows the last kill left open become unknown
    next.child.stdin.write(input);
    const ready = await next.ready;
    assert.ok(ready, `the proxy process did not start: ${next.stderr()}`);
    checkRecovered(ready);
    next.child.kill('SIGKILL');
    await next.exited;
    checkCommitted(KILLS);

    // The requests that reached the upstream were the credentialed ones.
    for (const r of upstream.requests) assert.equal(r.headers.authorization, `Bearer ${secret}`);
    const db = openDatabase({ home, readonly: true });
    const rows = db.prepare('SELECT count(*) FROM requests').pluck().get() as number;
    db.close();
    t.diagnostic(
      `${KILLS} kills (${earlyKills} during start-up) in ${Date.now() - started} ms; ${n} requests sent, ` +
        `${upstream.requests.length} received upstream, ${answered} answered, ${rows} rows, ` +
        `${recoveredTotal} recovered as unknown after ${killsWithOpenRows} kills`,
    );
    assert.ok(upstream.requests.length > 10 * KILLS, 'the proxy was under load when killed');
    assert.ok(killsWithOpenRows > KILLS / 2, 'most kills left requests in flight');
    assert.ok(recoveredTotal > 0);
  },
);
