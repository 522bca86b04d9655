/**
 * Intents per second through the audit writer: group commit (C concurrent requests, so each
 * tick's intents share a transaction) against one transaction per intent (C = 1), under
 * synchronous FULL and NORMAL; then one intent at a time through the audit thread and
 * in-process (needs `npm run build`). Run: node --import tsx bench/audit-writer.ts [seconds]
 * Uses a temp dir on the file system of os.tmpdir() (set TMPDIR to measure another disk).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuditSink, RequestIntent, RequestOutcome } from '../src/audit/sink.js';
import type * as ThreadedWriter from '../src/audit/threaded-writer.js';
import type * as Writer from '../src/audit/writer.js';
import type * as Database from '../src/store/database.js';
import { createAuditWriter, type BatchStats } from '../src/audit/writer.js';
import { openDatabase } from '../src/store/database.js';

const seconds = Number(process.argv[2] ?? 2);

/** The intent and outcome every bench request records: a typical LLM call's row. */
const benchIntent = (): RequestIntent => ({
  sandboxId: 'bench',
  service: 'openai',
  credential: 'OPENAI_API_KEY',
  method: 'POST',
  host: 'api.openai.com',
  path: '/v1/chat/completions',
  startedAt: Date.now(),
});
const benchOutcome = (): RequestOutcome => ({
  decision: 'allowed',
  status: 200,
  bytesIn: 100,
  bytesOut: 1000,
  durationMs: 5,
  endedAt: Date.now(),
});

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
      const entry = await writer.intent(benchIntent());
      entry.finish(benchOutcome());
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

/** An audit sink as the engine builds it, from dist/ (so run `npm run build` first), and how to close it. */
async function openSink(
  via: 'thread' | 'in-process',
  home: string,
  synchronous: 'FULL' | 'NORMAL',
): Promise<{ sink: AuditSink; close: () => Promise<void> }> {
  const dist = (file: string) => new URL(`../dist/${file}`, import.meta.url).href;
  if (via === 'thread') {
    const { startAuditThread } = (await import(dist('audit/threaded-writer.js'))) as typeof ThreadedWriter;
    const audit = startAuditThread({ home, synchronous });
    await audit.opened;
    return { sink: audit, close: () => audit.close() };
  }
  const [{ createAuditWriter: create }, { openDatabase: open }] = await Promise.all([
    import(dist('audit/writer.js')) as Promise<typeof Writer>,
    import(dist('store/database.js')) as Promise<typeof Database>,
  ]);
  const db = open({ home, synchronous });
  const writer = create({ db });
  const closeBoth = async () => {
    await writer.close();
    db.close();
  };
  return { sink: writer, close: closeBoth };
}

/**
 * One intent at a time, `gapMs` apart, through the audit thread as the engine runs it and
 * through the writer on the caller's own thread: what a request on an idle proxy waits before
 * it may go upstream, and how much of that is the thread hop rather than the commit itself.
 */
async function oneAtATime(
  via: 'thread' | 'in-process',
  synchronous: 'FULL' | 'NORMAL',
  gapMs: number,
  n = 200,
): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), 'airlock-bench-'));
  const { sink, close } = await openSink(via, home, synchronous);
  const waits: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const entry = await sink.intent(benchIntent());
    waits.push(performance.now() - t0);
    entry.finish(benchOutcome());
    await sleep(gapMs);
  }
  await close();
  rmSync(home, { recursive: true, force: true });
  waits.sort((x, y) => x - y);
  const at = (q: number) => waits[Math.floor(q * (waits.length - 1))]!.toFixed(2);
  return `${synchronous.padEnd(6)} one intent every ${String(gapMs).padStart(2)} ms, ${via.padEnd(10)}: p50 ${at(0.5)} ms, p90 ${at(0.9)} ms`;
}

for (const synchronous of ['FULL', 'NORMAL'] as const) {
  for (const concurrency of [1, 8, 64]) console.log(await measure(synchronous, concurrency));
}
for (const synchronous of ['FULL', 'NORMAL'] as const) {
  for (const gapMs of [1, 20]) {
    for (const via of ['thread', 'in-process'] as const)
      console.log(await oneAtATime(via, synchronous, gapMs));
  }
}
