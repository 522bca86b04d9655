import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reasonInWords } from '../src/audit/reason-words.js';
import { createAuditWriter } from '../src/audit/writer.js';
import { auditCommand } from '../src/cli/audit.js';
import { ERRORS, errorStatus, errorType, type ErrorCode } from '../src/errors.js';
import { openDatabase } from '../src/store/database.js';
import { anIntent, anOutcome, tempHome } from './helpers/audit-db.js';
import { runCommand, seedAudit } from './helpers/seed-audit.js';

const run = (home: string, ...args: string[]) => runCommand(auditCommand, args, { AIRLOCK_HOME: home });

test('the SANDBOX column shows the name beside the id; JSON carries sandboxName', async (t) => {
  const home = tempHome(t);
  await seedAudit(home);
  const { stdout } = await run(home);
  const body = stdout.split('\n').slice(1, -2);
  assert.equal(body.length, 9);
  for (const line of body) assert.match(line, /^\S+\s+(alpha \(a1\)|beta \(b2\))\s/, line);
  const rows = (await run(home, '--json')).stdout
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { sandbox: string; sandboxName: string | null });
  assert.deepEqual(
    new Set(rows.map((r) => `${r.sandboxName}=${r.sandbox}`)),
    new Set(['alpha=a1', 'beta=b2']),
  );
});

test('a sandbox without a name, or without a record, is shown by its id alone', async (t) => {
  const home = tempHome(t);
  const db = openDatabase({ home });
  const writer = createAuditWriter({ db });
  (await writer.intent(anIntent({ sandboxId: 'gone1' }))).finish(anOutcome());
  await writer.close();
  db.close();
  const { stdout } = await run(home);
  assert.match(stdout.split('\n')[1]!, /^\S+\s+gone1\s+openai\s/);
});

test('REASON shows words with the recorded code', async (t) => {
  const home = tempHome(t);
  await seedAudit(home);
  const { stdout } = await run(home);
  const denied = stdout.split('\n').find((l) => l.includes('/repos/acme/app'));
  assert.match(denied ?? '', /not in the endpoint rules \(airlock_policy_denied\)$/);
  const failed = stdout.split('\n').find((l) => /\berror\s+502\b/.test(l));
  assert.match(failed ?? '', /upstream unreachable or unusable \(airlock_upstream\)$/);
});

test('reasonInWords: forward-proxy denials, folded rows, and reasons that are words already', () => {
  assert.equal(
    reasonInWords('airlock_policy_denied', null),
    'host or port not allowed by the profiles (airlock_policy_denied)',
  );
  assert.equal(
    reasonInWords('airlock_rate_limited: 12 refusals folded (403×10, 404×2)', 'openai'),
    'over the rate limit: 12 refusals folded (403×10, 404×2) (airlock_rate_limited)',
  );
  assert.equal(reasonInWords('guest disconnected', 'openai'), 'guest disconnected');
  assert.equal(reasonInWords('airlock_nosuch', 'openai'), 'airlock_nosuch');
  // every type the proxy can record (the answer codes) has words
  const answers = (Object.keys(ERRORS) as ErrorCode[]).filter((c) => errorStatus(c) !== undefined);
  assert.ok(answers.length >= 10);
  for (const code of answers) {
    const type = errorType(code);
    assert.match(reasonInWords(type, null), new RegExp(`^\\w.* \\(${type}\\)$`), code);
  }
});
