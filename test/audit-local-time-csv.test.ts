import assert from 'node:assert/strict';
import { test } from 'node:test';
import { auditCommand } from '../src/cli/audit.js';
import { isAirlockError } from '../src/errors.js';
import { tempHome } from './helpers/audit-db.js';
import { runCommand, seedAudit } from './helpers/seed-audit.js';

const run = (home: string, ...args: string[]) => runCommand(auditCommand, args, { AIRLOCK_HOME: home });

/** Sets the process's time zone for one test (Node re-reads TZ when it is assigned). */
function inZone(t: { after(fn: () => void): void }, zone: string): void {
  const before = process.env.TZ;
  process.env.TZ = zone;
  t.after(() => {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  });
}

/** A small RFC 4180 reader: enough to check that what renderCsv quotes comes back whole. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted && c === '"' && text[i + 1] === '"') {
      field += '"';
      i++;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (!quoted && c === ',') {
      row.push(field);
      field = '';
    } else if (!quoted && c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else {
      field += c;
    }
  }
  assert.equal(field + row.join(''), '', 'the text ends with CRLF');
  return rows;
}

test('--local shows times in the local zone with the offset; UTC stays the default', async (t) => {
  inZone(t, 'Asia/Kolkata');
  const home = tempHome(t);
  const now = Date.parse('2026-11-27T08:00:00.000Z');
  await seedAudit(home, now);
  const utc = (await run(home, '--sandbox', 'beta', '--since', '2026-11-27')).stdout.split('\n');
  assert.match(utc[1]!, /^2026-11-27T07:53:00Z\s/);
  const local = (await run(home, '--sandbox', 'beta', '--since', '2026-11-27', '--local')).stdout.split('\n');
  assert.match(local[1]!, /^2026-11-27T13:23:00\+05:30\s/);
  const query = await run(home, '--query', 'slowest', '--limit', '1', '--local');
  assert.match(query.stdout, /^started_at.*\n2026-11-27T13:22:00\+05:30\s/);
  await assert.rejects(
    run(home, '--json', '--local'),
    (e: unknown) => isAirlockError(e) && e.code === 'AIRLOCK_ERR_USAGE' && e.message.includes('--local'),
  );
});

test('--format csv: a header, every column, proper quoting; the summary on stderr', async (t) => {
  const home = tempHome(t);
  await seedAudit(home);
  const { status, stdout, stderr } = await run(home, '--format', 'csv');
  assert.equal(status, 0);
  const rows = parseCsv(stdout);
  assert.equal(rows.length, 1 + 9);
  const header = rows[0]!;
  assert.deepEqual(header.slice(0, 4), ['id', 'sandbox', 'sandboxName', 'service']);
  const col = (row: string[], name: string) => row[header.indexOf(name)];
  const denied = rows.find((r) => col(r, 'path') === '/repos/acme/app')!;
  assert.equal(col(denied, 'sandboxName'), 'beta');
  assert.equal(col(denied, 'reasonText'), 'not in the endpoint rules (airlock_policy_denied)');
  assert.equal(col(denied, 'startedAt')!.endsWith('Z'), true);
  assert.match(stderr, /^9 requests · 2 denied/);
  assert.equal(stdout.includes('9 requests'), false);

  const tricky = await run(
    home,
    '--format=csv',
    '--sql',
    `SELECT 'a,b' AS comma, 'say "hi"' AS quote, 'two' || char(10) || 'lines' AS newline,
       '=HYPERLINK("x")' AS formula, NULL AS empty, 3 AS n, -1 AS negative`,
  );
  assert.equal(
    tricky.stdout,
    'comma,quote,newline,formula,empty,n,negative\r\n' +
      `"a,b","say ""hi""",two\\x0alines,"'=HYPERLINK(""x"")",,3,-1\r\n`,
  );
});

test('--format values are checked, and --json agrees with --format', async (t) => {
  const home = tempHome(t);
  for (const [args, needle] of [
    [['--format', 'xml'], '--format xml'],
    [['--json', '--format', 'csv'], '--json and --format csv'],
  ] as const) {
    await assert.rejects(
      run(home, ...args),
      (e: unknown) => isAirlockError(e) && e.code === 'AIRLOCK_ERR_USAGE' && e.message.includes(needle),
    );
  }
  await seedAudit(home);
  const json = await run(home, '--format', 'json', '--limit', '1');
  assert.equal((JSON.parse(json.stdout) as { path: string }).path, '/v1/responses');
});
