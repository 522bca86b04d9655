import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { RequestIntent, RequestOutcome } from '../../src/audit/sink.js';
import { openDatabase, type Db, type OpenDatabaseOptions } from '../../src/store/database.js';

/** A fresh state directory, removed when the test ends. */
export function tempHome(t: TestContext): string {
  const home = mkdtempSync(join(tmpdir(), 'airlock-audit-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  return home;
}

/** airlock.db in a fresh state directory, closed when the test ends. */
export function openTempDb(
  t: TestContext,
  options: Partial<OpenDatabaseOptions> = {},
): { home: string; db: Db } {
  const home = options.home ?? tempHome(t);
  const db = openDatabase({ ...options, home });
  t.after(() => db.close());
  return { home, db };
}

export function anIntent(overrides: Partial<RequestIntent> = {}): RequestIntent {
  return {
    sandboxId: 'sb1',
    service: 'openai',
    credential: 'OPENAI_API_KEY',
    method: 'POST',
    host: 'api.openai.com',
    path: '/v1/chat/completions',
    startedAt: Date.parse('2025-06-01T12:00:00.000Z'),
    ...overrides,
  };
}

export function anOutcome(overrides: Partial<RequestOutcome> = {}): RequestOutcome {
  return {
    decision: 'allowed',
    status: 200,
    bytesIn: 120,
    bytesOut: 3400,
    ttfbMs: 150,
    durationMs: 900,
    usage: { model: 'gpt-4o-2024-08-06', inputTokens: 12, outputTokens: 34 },
    endedAt: Date.parse('2025-06-01T12:00:00.900Z'),
    ...overrides,
  };
}
