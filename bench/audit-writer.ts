/**
 * Intents per second through the audit writer: group commit (C concurrent requests, so each
 * tick's intents share a transaction) against one transaction per intent (C = 1), under
 * synchronous FULL and NORMAL; then the round trip of one intent at a time through the audit
 * thread (needs `npm run build`). Run: node --import tsx bench/audit-writer.ts [seconds]
 * Uses a temp dir on the file system of os.tmpdir() (set TMPDIR to measure another disk).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type * as ThreadedWriter from '../src/audit/threaded-writer.js';
import { createAuditWriter, type BatchStats } from '../src/audit/writer.js';
import { openDatabase } from '../src/store/database.js';

const seconds = Number(process.argv[2] ?? 2);

async function measure(synchronous: 'FULL' | 'NORMAL', concurrency: number): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), 'airlock-bench-'));
  const db = openDatabase({ home, synchronous });
  let commits = 0;
  const writer = createAuditWriter({ db, onCommit: (_: BatchStats) => commits++ });
  let done = 0;
  const until = Date.now() + seconds * 1000;
  // C clients, each sending its next request as soon as the last one's intent committed
  const client = async () => {
    while (Date.now() < until) {
      const entry = await writer.intent({
        sandboxId: 'bench',
        service: 'openai',
        credential: 'OPENAI_API_KEY',
        method: 'POST',
        host: 'api.openai.com',
        path: '/v1/chat/completions',
        startedAt: Date.now(),
      });
      entry.finish({
        decision: 'allowed',
        status: 200,
        bytesIn: 100,
        bytesOut: 1000,
        durationMs: 5,
        endedAt: Date.now(),
      });
      done++;
    }
  };
  const start = Date.now();
  await Promise.all(Array.from({ length: concurrency }, client));
  const elapsed = (Date.now() - start) / 1000;
  await writer.close();
  db.close();
  rmSync(home, { recursive: true, force: true });
  return `${synchronous.padEnd(6)} concurrency ${String(concurrency).padStart(3)}: ${Math.round(
    done / elapsed,
  )
    .toLocaleString('en-US')
    .padStart(7)} intents/s, ${Math.round(commits / elapsed).toLocaleString('en-US')} commits/s`;
}

/**
 * One intent at a time through the audit thread as the engine runs it (dist/, so run
 * `npm run build` first), `gapMs` apart: what a request on an idle proxy waits before it may
 * go upstream. Each round trip wakes the audit thread and then the main thread; on a VM whose
 * idle vCPUs sleep, each wake costs a share of a millisecond on top of the commit's fsync.
 */
async function roundTrip(synchronous: 'FULL' | 'NORMAL', gapMs: number, n = 200): Promise<string> {
  const { startAuditThread } = (await import(
    new URL('../dist/audit/threaded-writer.js', import.meta.url).href
  )) as typeof ThreadedWriter;
  const home = mkdtempSync(join(tmpdir(), 'airlock-bench-'));
  const audit = startAuditThread({ home, synchronous });
  await audit.opened;
  const waits: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const entry = await audit.intent({
      sandboxId: 'bench',
      service: 'openai',
      credential: 'OPENAI_API_KEY',
      method: 'POST',
      host: 'api.openai.com',
      path: '/v1/chat/completions',
      startedAt: Date.now(),
    });
    waits.push(performance.now() - t0);
    entry.finish({
      decision: 'allowed',
      status: 200,
      bytesIn: 100,
      bytesOut: 1000,
      durationMs: 5,
      endedAt: Date.now(),
    });
    await sleep(gapMs);
  }
  await audit.close();
  rmSync(home, { recursive: true, force: true });
  waits.sort((a, b) => a - b);
  const at = (q: number) => waits[Math.floor(q * (waits.length - 1))]!.toFixed(2);
  return `${synchronous.padEnd(6)} one intent every ${String(gapMs).padStart(2)} ms through the audit thread: p50 ${at(0.5)} ms, p90 ${at(0.9)} ms`;
}

for (const synchronous of ['FULL', 'NORMAL'] as const) {
  for (const concurrency of [1, 8, 64]) console.log(await measure(synchronous, concurrency));
}
for (const synchronous of ['FULL', 'NORMAL'] as const) {
  for (const gapMs of [1, 20]) console.log(await roundTrip(synchronous, gapMs));
}
