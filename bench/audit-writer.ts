/**
 * Intents per second through the audit writer: group commit (C concurrent requests, so each
 * tick's intents share a transaction) against one transaction per intent (C = 1), under
 * synchronous FULL and NORMAL. Run: node --import tsx bench/audit-writer.ts [seconds]
 * Uses a temp dir on the file system of os.tmpdir() (set TMPDIR to measure another disk).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

for (const synchronous of ['FULL', 'NORMAL'] as const) {
  for (const concurrency of [1, 8, 64]) console.log(await measure(synchronous, concurrency));
}
