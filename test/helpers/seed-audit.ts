import { Writable } from 'node:stream';
import { createAuditWriter } from '../../src/audit/writer.js';
import type { CliIo, Command } from '../../src/cli/command.js';
import { openDatabase } from '../../src/store/database.js';
import { SandboxRecords } from '../../src/store/sandbox-records.js';
import { anIntent, anOutcome } from './audit-db.js';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;

/**
 * Seeds airlock.db in `home` with two sandboxes, alpha (a1) and beta (b2), and nine requests
 * (times relative to `now`): see the table in the body. Returns `now`.
 */
export async function seedAudit(home: string, now = Date.now()): Promise<number> {
  const db = openDatabase({ home });
  const sandboxes = new SandboxRecords(db);
  for (const [id, name] of [
    ['a1', 'alpha'],
    ['b2', 'beta'],
  ] as const) {
    sandboxes.allocate(
      {
        id,
        name,
        netns: `airlock-${id}`,
        hostIf: `al-${id}`,
        proxyPort: 9090,
        ownerPid: process.pid,
        ownerStart: null,
        profiles: ['llm-only'],
        credentials: ['OPENAI_API_KEY'],
        createdAt: new Date(now - 4 * DAY).toISOString(),
      },
      16,
      (slot) => ({ gateway: `10.209.0.${4 * slot + 1}`, guest: `10.209.0.${4 * slot + 2}` }),
    );
  }
  const writer = createAuditWriter({ db });
  const at = (ago: number) => now - ago;
  const forward = async (
    sandboxId: string,
    ago: number,
    request: Partial<Parameters<typeof anIntent>[0]>,
    outcome?: Partial<Parameters<typeof anOutcome>[0]>,
  ) => {
    const entry = await writer.intent(anIntent({ sandboxId, startedAt: at(ago), ...request }));
    if (outcome) entry.finish(anOutcome({ endedAt: at(ago) + (outcome.durationMs ?? 0), ...outcome }));
  };
  const chat = { service: 'openai', host: 'api.openai.com', path: '/v1/chat/completions' };
  // 1-3: alpha's LLM calls
  await forward('a1', 10 * MIN, chat, {
    durationMs: 1200,
    usage: { model: 'gpt-4o', inputTokens: 100, outputTokens: 20 },
  });
  await forward('a1', 9 * MIN, chat, {
    durationMs: 800,
    usage: { model: 'gpt-4o', inputTokens: 50, outputTokens: 10 },
  });
  await forward(
    'a1',
    8 * MIN,
    {
      service: 'anthropic',
      credential: 'ANTHROPIC_API_KEY',
      host: 'api.anthropic.com',
      path: '/v1/messages',
    },
    { durationMs: 3000, usage: { model: 'claude-sonnet-4-5', inputTokens: 300, outputTokens: 40 } },
  );
  // 4: beta denied a GitHub path
  writer.denied({
    ...anIntent({ sandboxId: 'b2', service: 'github', credential: 'GITHUB_TOKEN', host: 'api.github.com' }),
    method: 'DELETE',
    path: '/repos/acme/app',
    startedAt: at(7 * MIN),
    status: 403,
    reason: 'airlock_policy_denied',
  });
  // 5: beta's upstream failed; 6: rate limited
  await forward('b2', 6 * MIN, chat, {
    decision: 'error',
    status: 502,
    reason: 'airlock_upstream',
    durationMs: 50,
    ttfbMs: undefined,
    usage: undefined,
  });
  await forward(
    'b2',
    5 * MIN,
    {
      service: 'google',
      credential: 'GEMINI_API_KEY',
      host: 'generativelanguage.googleapis.com',
      path: '/v1beta/models/gemini-2.5-flash:generateContent',
    },
    { status: 429, durationMs: 100, usage: undefined },
  );
  // 7: alpha, three days ago; 8: beta denied two days ago
  await forward('a1', 3 * DAY, { method: 'GET', path: '/v1/models' }, { durationMs: 90, usage: undefined });
  writer.denied({
    ...anIntent({ sandboxId: 'b2', service: 'github', host: 'api.github.com', path: '/graphql' }),
    startedAt: at(2 * DAY),
    status: 403,
    reason: 'airlock_policy_denied',
  });
  // 9: alpha, still in flight
  await forward('a1', 1 * MIN, { path: '/v1/responses' });
  await writer.close();
  db.close();
  return now;
}

/** Runs a CLI command with captured output (stdin omitted = the process's own). */
export async function runCommand(
  command: Command,
  args: string[],
  env: NodeJS.ProcessEnv,
  stdin?: NodeJS.ReadableStream,
): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        append(chunk.toString());
        callback();
      },
    });
  const io: CliIo = {
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
    env,
  };
  if (stdin) io.stdin = stdin;
  const status = await command.run(args, io);
  return { status, stdout, stderr };
}
