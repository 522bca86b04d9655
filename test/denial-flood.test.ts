import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { createAuditWriter } from '../src/audit/writer.js';
import { AuditSpace } from '../src/store/audit-space.js';
import { openDatabase } from '../src/store/database.js';
import { grantAll } from './helpers/policy.js';
import { builtin, startBench } from './helpers/proxy-bench.js';
import { needsRoot } from './helpers/sandbox-bench.js';
import { tinyDisk } from './helpers/tiny-disk.js';

const FLOOD = 20_000;
const CAP = 2 * 1024 * 1024;

test(
  'a flood of 20,000 refused requests from one sandbox: the other’s calls all succeed, the log stays under its cap, the flood is on record',
  { skip: needsRoot },
  async (t) => {
    // a home whose disk the flood's rows would fill many times over, one row each
    const mnt = tinyDisk(t, '6m');
    const home = join(mnt, 'home');
    mkdirSync(home);
    const db = openDatabase({ home });
    t.after(() => db.close());
    const writer = createAuditWriter({ db, maxBytes: CAP, onPrune: () => {} });
    t.after(() => writer.close());
    const space = new AuditSpace(db);

    // two sandboxes of one home, one upstream; the flooding one may call chat completions only
    const openai = builtin('openai');
    const flooding = await startBench(t, {
      services: ['openai'],
      sandboxId: 'sbx-flood',
      deps: {
        audit: writer,
        policy: grantAll([openai], { allowEndpoints: ['openai:POST:/v1/chat/completions'] }),
      },
    });
    const calm = await startBench(t, {
      ca: flooding.ca,
      upstream: flooding.upstream,
      services: ['openai'],
      sandboxId: 'sbx-calm',
      deps: { audit: writer },
    });
    const agent = new Agent({ connections: 64 });
    t.after(() => agent.close());

    let largest = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        largest = Math.max(largest, space.diskBytes());
        await sleep(50);
      }
    })();
    let sent = 0;
    const refusedStatuses = new Map<number, number>();
    const flood = Promise.all(
      Array.from({ length: 64 }, async () => {
        while (sent < FLOOD) {
          const i = sent++;
          const res = await request(`${flooding.baseUrl}/proxy/openai/v1/flood/${i}`, { dispatcher: agent });
          await res.body.dump();
          refusedStatuses.set(res.statusCode, (refusedStatuses.get(res.statusCode) ?? 0) + 1);
        }
      }),
    );
    const calmStatuses: number[] = [];
    const calmCalls = (async () => {
      for (let i = 0; i < 100; i++) {
        const res = await request(`${calm.baseUrl}/proxy/openai/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${calm.cred('openai').placeholder}` },
          body: '{}',
        });
        await res.body.dump();
        calmStatuses.push(res.statusCode);
      }
    })();
    await Promise.all([flood, calmCalls]);
    await flooding.proxy.close(); // writes the last folded row
    sampling = false;
    await sampler;
    await writer.flush();

    assert.deepEqual(
      [...new Set(calmStatuses)],
      [200],
      `the other sandbox's calls: ${calmStatuses.join(',')}`,
    );
    assert.equal(calmStatuses.length, 100);
    assert.deepEqual(
      [...refusedStatuses.keys()].filter((s) => s !== 403 && s !== 429),
      [],
      'every flood request was refused',
    );
    largest = Math.max(largest, space.diskBytes());
    assert.ok(largest <= CAP, `the audit log took ${largest} bytes, over its cap of ${CAP}`);

    // on record: a row each, or counted in a folded row (the query docs/audit.md gives)
    const refused = db
      .prepare(
        `SELECT sum(CASE WHEN reason GLOB 'airlock_rate_limited: * refusals folded*'
           THEN CAST(substr(reason, 23, instr(reason, ' refusals') - 23) AS INTEGER) ELSE 1 END)
         FROM requests WHERE decision = 'denied' AND sandbox = 'sbx-flood'`,
      )
      .pluck()
      .get() as number;
    assert.equal(refused + space.gaps().pruned, FLOOD, 'every refused request is on record');
    const rows = db
      .prepare("SELECT count(*) FROM requests WHERE sandbox = 'sbx-flood'")
      .pluck()
      .get() as number;
    assert.ok(rows < FLOOD / 10, `the flood cost ${rows} rows, not one each`);
    assert.equal(
      db.prepare("SELECT count(*) FROM requests WHERE sandbox = 'sbx-calm' AND status = 200").pluck().get(),
      100,
    );
  },
);
