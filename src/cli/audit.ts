import { filterWarnings } from '../audit/filter-warnings.js';
import {
  listNamedQueries,
  openAuditQuery,
  parseTime,
  type ListedRequest,
  type QueryResult,
  type RequestDecision,
  type RequestFilter,
  type RequestSummary,
} from '../audit/query.js';
import { reasonInWords } from '../audit/reason-words.js';
import { airlockHome } from '../config/env-vars.js';
import { AirlockError } from '../errors.js';
import type { CliIo, Command } from './command.js';
import { confirm } from './confirm.js';
import { renderCsv } from './csv.js';
import { parseFlags, stringFlag, type FlagSpec, type FlagValues } from './flags.js';
import { localTime } from './local-time.js';
import { printable, renderTable } from './table.js';

const FILTER_FLAGS = ['sandbox', 'service', 'since', 'until', 'decision', 'status', 'limit'] as const;

const SPEC: Record<string, FlagSpec> = {
  ...Object.fromEntries(FILTER_FLAGS.map((f) => [f, { value: true }])),
  json: {},
  format: { value: true },
  local: {},
  query: { value: true },
  sql: { value: true },
};

const PRUNE_SPEC: Record<string, FlagSpec> = {
  'older-than': { value: true },
  'dry-run': {},
  yes: {},
};

const FORMATS = ['table', 'csv', 'json'] as const;
type Format = (typeof FORMATS)[number];

/** How rows are shown: the format, and whether times are in the local zone. */
interface Output {
  format: Format;
  local: boolean;
}

const DECISIONS: readonly (RequestDecision | 'pending')[] = [
  'allowed',
  'denied',
  'error',
  'unknown',
  'pending',
];

/** rows shown when --limit is not given (named queries set their own default) */
const DEFAULT_LIMIT = 100;

function help(): string {
  const queries = listNamedQueries()
    .map((q) => `  ${q.name.padEnd(18)} ${q.description}`)
    .join('\n');
  return `airlock audit — what the sandboxes called, with which credential, and what it cost

Usage:
  airlock audit [filters] [output]             recent requests, then a summary line
  airlock audit --query NAME [filters] [output] a named query over the filtered requests
  airlock audit --sql 'SELECT …' [output]      one read-only SQL statement
  airlock audit prune --older-than 30d [--dry-run] [--yes]
                                               delete finished requests older than that

Filters:
  --sandbox ID|NAME     one sandbox
  --service NAME        one catalogue service (openai, anthropic, …)
  --since T, --until T  a time window: 15m, 2h, 1d, 4w ago, or ISO 8601 (2025-06-01T12:00Z);
                        --since is inclusive, --until exclusive
  --decision D          allowed, denied, error, unknown, or pending (still in flight)
  --status N            an HTTP status, e.g. 403
  --limit N             at most N rows (default ${DEFAULT_LIMIT}; named queries: their own)

A filter that can match nothing known (a sandbox or service no record names, --since not
before --until) still runs, with a warning on stderr.

Output:
  --format F            table (default), csv (RFC 4180, with a header row) or json
  --json                the same as --format json: one JSON object per line (ndjson)
  --local               times in the local time zone (TZ) with their offset; UTC is the
                        default, and JSON always keeps UTC
  With csv and json the summary goes to stderr, so stdout carries only rows.

Prune:
  --older-than T        a duration (30d, 12h) or an ISO 8601 date or time (2025-06-01)
  --dry-run             say what would be deleted, delete nothing
  --yes                 delete without asking; without it airlock asks on a terminal, and
                        refuses when stdin is not one

Named queries (sql/queries/NAME.sql):
${queries}

The state directory is $AIRLOCK_HOME (default /var/lib/airlock). --sql and --query run on a
read-only connection with PRAGMA query_only: nothing they do can change the audit log.
`;
}

export const auditCommand: Command = {
  get help() {
    return help();
  },
  run(args: string[], io: CliIo): Promise<number> {
    return args[0] === 'prune' ? prune(args.slice(1), io) : Promise.resolve(show(args, io));
  },
};

function show(args: string[], io: CliIo): number {
  const { flags, rest, help: wantsHelp } = parseFlags(args, SPEC, { command: 'audit' });
  if (wantsHelp) {
    io.stdout.write(help());
    return 0;
  }
  if (rest.length > 0) throw usage(`unexpected argument "${rest[0]}"`);
  const sql = stringFlag(flags, 'sql');
  const name = stringFlag(flags, 'query');
  const output = parseOutput(flags);
  if (sql !== undefined && name !== undefined) throw usage('give --query or --sql, not both');
  if (sql !== undefined && FILTER_FLAGS.some((f) => flags[f] !== undefined)) {
    throw usage('--sql takes no filters; put them in the WHERE clause');
  }
  const filter = parseFilter(flags);

  const audit = openAuditQuery({ home: airlockHome(io.env) });
  try {
    if (sql !== undefined) return printResult(audit.sql(sql), output, io);
    const given = { since: stringFlag(flags, 'since'), until: stringFlag(flags, 'until') };
    for (const warning of filterWarnings(filter, audit, given)) {
      io.stderr.write(`airlock: warning: ${warning}\n`);
    }
    if (name !== undefined) return printResult(audit.named(name, filter), output, io);
    const rows = audit.list({ ...filter, limit: filter.limit ?? DEFAULT_LIMIT });
    const summary = audit.summary(filter);
    switch (output.format) {
      case 'json':
        for (const r of rows) io.stdout.write(`${JSON.stringify(r)}\n`);
        io.stderr.write(summaryLine(summary, rows.length));
        break;
      case 'csv':
        io.stdout.write(requestCsv(rows, output.local));
        io.stderr.write(summaryLine(summary, rows.length));
        break;
      case 'table':
        if (rows.length > 0) io.stdout.write(requestTable(rows, output.local));
        io.stdout.write(summaryLine(summary, rows.length));
        break;
    }
    return 0;
  } finally {
    audit.close();
  }
}

function parseOutput(flags: FlagValues): Output {
  const given = stringFlag(flags, 'format');
  if (given !== undefined && !(FORMATS as readonly string[]).includes(given)) {
    throw usage(`--format ${given}: expected one of ${FORMATS.join(', ')}`);
  }
  if (flags.json === true && given !== undefined && given !== 'json') {
    throw usage(`--json and --format ${given} disagree; give one`);
  }
  const format: Format = flags.json === true ? 'json' : ((given as Format | undefined) ?? 'table');
  const local = flags.local === true;
  if (local && format === 'json') throw usage('--local is for the table and csv; JSON keeps UTC');
  return { format, local };
}

async function prune(args: string[], io: CliIo): Promise<number> {
  const { flags, rest, help: wantsHelp } = parseFlags(args, PRUNE_SPEC, { command: 'audit prune' });
  if (wantsHelp) {
    io.stdout.write(help());
    return 0;
  }
  if (rest.length > 0) throw usage(`unexpected argument "${rest[0]}"`);
  const olderThan = stringFlag(flags, 'older-than');
  if (olderThan === undefined) throw usage('prune needs --older-than, e.g. --older-than 30d');
  const before = parseTime(olderThan, '--older-than');
  const dryRun = flags['dry-run'] === true;
  const audit = openAuditQuery({ home: airlockHome(io.env), writable: !dryRun });
  try {
    const { requests, oldest } = audit.prunable(before);
    const what = `${requests} finished request${requests === 1 ? '' : 's'} that started before ${before}`;
    if (requests === 0) {
      io.stdout.write(`nothing to prune: no finished request started before ${before}\n`);
      return 0;
    }
    if (dryRun) {
      io.stdout.write(`would prune ${what} (the oldest at ${oldest}); nothing deleted (--dry-run)\n`);
      return 0;
    }
    if (flags.yes !== true) {
      const yes = await confirm(`airlock: delete ${what} from the audit log?`, io);
      if (yes === undefined) {
        throw usage(`prune would delete ${what}; stdin is not a terminal, so add --yes to confirm`);
      }
      if (!yes) {
        io.stdout.write('nothing deleted\n');
        return 0;
      }
    }
    const deleted = audit.prune(before);
    io.stdout.write(`pruned ${deleted} request${deleted === 1 ? '' : 's'} that started before ${before}\n`);
    return 0;
  } finally {
    audit.close();
  }
}

function parseFilter(flags: FlagValues): RequestFilter {
  const filter: RequestFilter = {};
  const sandbox = stringFlag(flags, 'sandbox');
  const service = stringFlag(flags, 'service');
  const since = stringFlag(flags, 'since');
  const until = stringFlag(flags, 'until');
  const decision = stringFlag(flags, 'decision');
  const status = stringFlag(flags, 'status');
  const limit = stringFlag(flags, 'limit');
  if (sandbox !== undefined) filter.sandbox = sandbox;
  if (service !== undefined) filter.service = service;
  const now = Date.now();
  if (since !== undefined) filter.since = parseTime(since, '--since', now);
  if (until !== undefined) filter.until = parseTime(until, '--until', now);
  if (decision !== undefined) {
    if (!(DECISIONS as readonly string[]).includes(decision)) {
      throw usage(`--decision ${decision}: expected one of ${DECISIONS.join(', ')}`);
    }
    filter.decision = decision as RequestFilter['decision'];
  }
  if (status !== undefined) filter.status = wholeNumber(status, '--status', 100, 599);
  if (limit !== undefined) filter.limit = wholeNumber(limit, '--limit', 1, 1_000_000_000);
  return filter;
}

function wholeNumber(value: string, flag: string, min: number, max: number): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) throw usage(`${flag} ${value}: expected a whole number from ${min} to ${max}`);
  return n;
}

function usage(message: string): AirlockError {
  return new AirlockError('AIRLOCK_ERR_USAGE', `airlock audit: ${message}`, {
    hint: 'see airlock audit --help',
  });
}

const REQUEST_COLUMNS = [
  'TIME',
  'SANDBOX',
  'SERVICE',
  'DECISION',
  'STATUS',
  'METHOD',
  'HOST',
  'PATH',
  'MS',
  'TOKENS',
  'MODEL',
  'REASON',
];

function requestTable(rows: ListedRequest[], local: boolean): string {
  return renderTable(
    REQUEST_COLUMNS,
    rows.map((r) => [
      local ? localTime(r.startedAt) : r.startedAt.replace(/\.\d+Z$/, 'Z'),
      r.sandboxName === null ? r.sandbox : `${r.sandboxName} (${r.sandbox})`,
      r.service,
      r.decision ?? 'pending',
      r.status,
      r.method,
      r.host,
      shorten(r.query ? `${r.path}?${r.query}` : r.path, 60),
      r.durationMs,
      r.inputTokens === null && r.outputTokens === null
        ? null
        : `${r.inputTokens ?? '-'}/${r.outputTokens ?? '-'}`,
      r.model,
      r.reason && shorten(reasonInWords(r.reason, r.service), 80),
    ]),
  );
}

/** Every column of a row, as in JSON, plus the reason in words; times as the table shows them. */
function requestCsv(rows: ListedRequest[], local: boolean): string {
  const columns = [
    ...([
      'id',
      'sandbox',
      'sandboxName',
      'service',
      'credential',
      'method',
      'host',
      'path',
      'query',
    ] as const),
    ...(['status', 'decision', 'reason', 'bytesIn', 'bytesOut', 'ttfbMs', 'durationMs'] as const),
    ...(['model', 'inputTokens', 'outputTokens', 'startedAt', 'endedAt'] as const),
  ];
  const time = (iso: string | null) => (iso !== null && local ? localTime(iso) : iso);
  return renderCsv(
    [...columns, 'reasonText'],
    rows.map((r) => [
      ...columns.map((c) => (c === 'startedAt' || c === 'endedAt' ? time(r[c]) : r[c])),
      r.reason && reasonInWords(r.reason, r.service),
    ]),
  );
}

function summaryLine(s: RequestSummary, shown: number): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const parts = [
    `${n(s.requests)} request${s.requests === 1 ? '' : 's'}`,
    `${n(s.denied)} denied`,
    `${n(s.errors)} error${s.errors === 1 ? '' : 's'}`,
    `tokens ${n(s.inputTokens)} in / ${n(s.outputTokens)} out`,
  ];
  if (s.inFlight > 0) parts.push(`${n(s.inFlight)} in flight`);
  const more = shown < s.requests ? ` (showing the last ${n(shown)}; --limit for more)` : '';
  return `${parts.join(' · ')}${more}\n`;
}

/** An ISO 8601 UTC time as the audit log stores it (what --local converts in query results). */
const UTC_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function printResult(result: QueryResult, output: Output, io: CliIo): number {
  if (output.format === 'json') {
    for (const r of result.rows) io.stdout.write(`${JSON.stringify(r)}\n`);
    return 0;
  }
  const cell = (v: unknown) => (output.local && typeof v === 'string' && UTC_TIME.test(v) ? localTime(v) : v);
  const rows = result.rows.map((r) => result.columns.map((c) => cell(r[c])));
  if (output.format === 'csv') {
    io.stdout.write(renderCsv(result.columns, rows));
    return 0;
  }
  if (rows.length > 0) io.stdout.write(renderTable(result.columns, rows));
  io.stdout.write(`${rows.length} row${rows.length === 1 ? '' : 's'}\n`);
  return 0;
}

function shorten(text: string, max: number): string {
  const t = printable(text);
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}
