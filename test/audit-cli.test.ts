import assert from 'node:assert/strict';
import { test } from 'node:test';
import { auditCommand } from '../src/cli/audit.js';
import { isAirlockError } from '../src/errors.js';
import { tempHome } from './helpers/audit-db.js';
import { runCommand, seedAudit } from './helpers/seed-audit.js';

const run = (home: string, ...args: string[]) => runCommand(auditCommand, args, { AIRLOCK_HOME: home });

test('airlock audit: a table of recent requests and a summary line', async (t) => {
  const home = tempHome(t);
  await seedAudit(home);
  const { status, stdout } = await run(home);
  assert.equal(status, 0);
  const lines = stdout.trimEnd().split('\n');
  assert.match(
    lines[0]!,
    /^TIME\s+SANDBOX\s+SERVICE\s+DECISION\s+STATUS\s+METHOD\s+HOST\s+PATH\s+MS\s+TOKENS\s+MODEL\s+REASON$/,
  );
  assert.equal(lines.length, 1 + 9 + 1);
  // oldest first; the in-flight request last
  assert.match(lines[1]!, /alpha \(a1\)\s+openai\s+allowed\s+200\s+GET\s+api\.openai\.com\s+\/v1\/models/);
  assert.match(lines[9]!, /alpha \(a1\)\s+openai\s+pending\s+-\s+POST .*\/v1\/responses/);
  assert.ok(lines.some((l) => /alpha|a1/.test(l) && l.includes('100/20') && l.includes('gpt-4o')));
  assert.equal(lines[10], '9 requests · 2 denied · 2 errors · tokens 450 in / 70 out · 1 in flight');
});

test('filters: --sandbox by name, --decision, --status, --since, --service, --limit', async (t) => {
  const home = tempHome(t);
  await seedAudit(home);
  const count = async (...args: string[]) => {
    const { stdout } = await run(home, '--json', ...args);
    return stdout.split('\n').filter(Boolean).length;
  };
  assert.equal(await count('--sandbox', 'alpha'), 5);
  assert.equal(await count('--sandbox', 'b2'), 4);
  assert.equal(await count('--decision', 'denied'), 2);
  assert.equal(await count('--decision', 'pending'), 1);
  assert.equal(await count('--status', '403'), 2);
  assert.equal(await count('--since', '1h'), 7);
  assert.equal(await count('--since', '1h', '--sandbox', 'beta', '--decision', 'denied'), 1);
  assert.equal(await count('--until', '1h'), 2);
  assert.equal(await count('--service', 'anthropic'), 1);
  assert.equal(await count('--limit', '3'), 3);
  const { stdout } = await run(home, '--limit', '3');
  assert.match(stdout, /9 requests .*\(showing the last 3; --limit for more\)\n$/);
});

test('--json: one object per line, summary on stderr', async (t) => {
  const home = tempHome(t);
  await seedAudit(home);
  const { status, stdout, stderr } = await run(
    home,
    '--json',
    '--sandbox',
    'alpha',
    '--service',
    'anthropic',
  );
  assert.equal(status, 0);
  const rows = stdout
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.model, 'claude-sonnet-4-5');
  assert.equal(rows[0]!.inputTokens, 300);
  assert.equal(rows[0]!.credential, 'ANTHROPIC_API_KEY');
  assert.equal(stderr, '1 request · 0 denied · 0 errors · tokens 300 in / 40 out\n');
});

test('--query NAME: table or ndjson', async (t) => {
  const home = tempHome(t);
  await seedAudit(home);
  const json = await run(home, '--query', 'tokens-by-sandbox', '--json');
  assert.deepEqual(
    json.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .map((r) => [r.name, r.input_tokens, r.output_tokens]),
    [
      ['alpha', 450, 70],
      ['beta', 0, 0],
    ],
  );
  const table = await run(home, '--query', 'denied-recent');
  assert.match(table.stdout, /^started_at\s+sandbox\s+service/);
  assert.match(table.stdout, /DELETE\s+api\.github\.com\s+\/repos\/acme\/app/);
  assert.match(table.stdout, /\n1 row\n$/);
});

test('airlock audit prune --older-than deletes finished rows before the cut-off only', async (t) => {
  const home = tempHome(t);
  await seedAudit(home);
  const { status, stdout } = await run(home, 'prune', '--older-than', '1d', '--yes');
  assert.equal(status, 0);
  assert.match(stdout, /^pruned 2 requests that started before \d{4}-\d{2}-\d{2}T/);
  const after = await run(home, '--json');
  assert.equal(after.stdout.trimEnd().split('\n').length, 7);
  assert.match(
    (await run(home, 'prune', '--older-than', '0s', '--yes')).stdout,
    /^pruned 6 requests/,
    'in-flight rows stay',
  );
});

test('bad values are refused with the value named', async (t) => {
  const home = tempHome(t);
  for (const [args, needle] of [
    [['--since', '3x'], '--since 3x'],
    [['--until', 'yesterday'], '--until yesterday'],
    [['--since', '2025-13-45'], '--since 2025-13-45'],
    [['--decision', 'maybe'], '--decision maybe'],
    [['--status', '99'], '--status 99'],
    [['--status', '2OO'], '--status 2OO'],
    [['--limit', '0'], '--limit 0'],
    [['--limit=-5'], '--limit -5'],
    [['prune', '--older-than', '30x'], '--older-than 30x'],
    [['prune'], '--older-than'],
    [['--bogus'], '--bogus'],
    [['--sql', 'SELECT 1', '--since', '1h'], '--sql takes no filters'],
    [['--sql', 'SELECT 1', '--query', 'errors'], '--query or --sql'],
  ] as const) {
    await assert.rejects(
      run(home, ...args),
      (e: unknown) => isAirlockError(e) && e.code === 'AIRLOCK_ERR_USAGE' && e.message.includes(needle),
      needle,
    );
  }
  await assert.rejects(
    run(home, '--config', 'x.json'),
    (e: unknown) =>
      isAirlockError(e) && e.code === 'AIRLOCK_ERR_USAGE' && e.message.includes('unknown flag --config'),
  );
});

test('--help lists the filters and the named queries', async (t) => {
  const { status, stdout } = await run(tempHome(t), '--help');
  assert.equal(status, 0);
  for (const word of [
    '--since',
    '--until',
    '--decision',
    '--json',
    '--sql',
    'prune --older-than',
    '--dry-run',
    '--yes',
    '--format',
    '--local',
    'tokens-by-sandbox',
    'slowest',
  ]) {
    assert.ok(stdout.includes(word), word);
  }
});

test('control characters from the guest are shown escaped, not sent to the terminal', async (t) => {
  const home = tempHome(t);
  await seedAudit(home);
  const { stdout } = await run(home, '--sql', "SELECT 'a' || char(27) || '[31mred' AS path");
  assert.ok(!stdout.includes('\u001b'));
  assert.match(stdout, /a\\x1b\[31mred/);
});
