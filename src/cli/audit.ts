import {
  listNamedQueries,
  openAuditQuery,
  parseDuration,
  parseTime,
  type QueryResult,
  type RequestDecision,
  type RequestFilter,
  type RequestRecord,
  type RequestSummary,
} from '../audit/query.js';
import { airlockHome } from '../config/env-vars.js';
import { AirlockError } from '../errors.js';
import type { CliIo, Command } from './command.js';
import { parseFlags, stringFlag, type FlagSpec, type FlagValues } from './flags.js';
import { printable, renderTable } from './table.js';

const FILTER_FLAGS = ['sandbox', 'service', 'since', 'until', 'decision', 'status', 'limit'] as const;

const SPEC: Record<string, FlagSpec> = {
  ...Object.fromEntries(FILTER_FLAGS.map((f) => [f, { value: true }])),
  json: {},
  query: { value: true },
  sql: { value: true },
};

const PRUNE_SPEC: Record<string, FlagSpec> = { 'older-than': { value: true } };

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
  airlock audit [filters] [--json]             recent requests, then a summary line
  airlock audit --query NAME [filters] [--json] a named query over the filtered requests
  airlock audit --sql 'SELECT …' [--json]      one read-only SQL statement
  airlock audit prune --older-than 30d          delete finished requests older than that

Filters:
  --sandbox ID|NAME     one sandbox
  --service NAME        one catalogue service (openai, anthropic, …)
  --since T, --until T  a time window: 15m, 2h, 1d, 4w ago, or ISO 8601 (2025-06-01T12:00Z);
                        --since is inclusive, --until exclusive
  --decision D          allowed, denied, error, unknown, or pending (still in flight)
  --status N            an HTTP status, e.g. 403
  --limit N             at most N rows (default ${DEFAULT_LIMIT}; named queries: their own)

Output:
  --json                one JSON object per line (ndjson); the summary goes to stderr

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
    return Promise.resolve(args[0] === 'prune' ? prune(args.slice(1), io) : show(args, io));
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
  const json = flags.json === true;
  if (sql !== undefined && name !== undefined) throw usage('give --query or --sql, not both');
  if (sql !== undefined && FILTER_FLAGS.some((f) => flags[f] !== undefined)) {
    throw usage('--sql takes no filters; put them in the WHERE clause');
  }
  const filter = parseFilter(flags);

  const audit = openAuditQuery({ home: airlockHome(io.env) });
  try {
    if (sql !== undefined) return printResult(audit.sql(sql), json, io);
    if (name !== undefined) return printResult(audit.named(name, filter), json, io);
    const rows = audit.list({ ...filter, limit: filter.limit ?? DEFAULT_LIMIT });
    const summary = audit.summary(filter);
    if (json) {
      for (const r of rows) io.stdout.write(`${JSON.stringify(r)}\n`);
      io.stderr.write(summaryLine(summary, rows.length));
    } else {
      if (rows.length > 0) io.stdout.write(requestTable(rows));
      io.stdout.write(summaryLine(summary, rows.length));
    }
    return 0;
  } finally {
    audit.close();
  }
}

function prune(args: string[], io: CliIo): number {
  const { flags, rest, help: wantsHelp } = parseFlags(args, PRUNE_SPEC, { command: 'audit prune' });
  if (wantsHelp) {
    io.stdout.write(help());
    return 0;
  }
  if (rest.length > 0) throw usage(`unexpected argument "${rest[0]}"`);
  const olderThan = stringFlag(flags, 'older-than');
  if (olderThan === undefined) throw usage('prune needs --older-than, e.g. --older-than 30d');
  const ms = parseDuration(olderThan, '--older-than');
  const audit = openAuditQuery({ home: airlockHome(io.env), writable: true });
  try {
    const { before, deleted } = audit.prune(ms);
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

function requestTable(rows: RequestRecord[]): string {
  return renderTable(
    REQUEST_COLUMNS,
    rows.map((r) => [
      r.startedAt.replace(/\.\d+Z$/, 'Z'),
      r.sandbox,
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
      r.reason && shorten(r.reason, 60),
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

function printResult(result: QueryResult, json: boolean, io: CliIo): number {
  if (json) {
    for (const r of result.rows) io.stdout.write(`${JSON.stringify(r)}\n`);
    return 0;
  }
  if (result.rows.length > 0) {
    io.stdout.write(
      renderTable(
        result.columns,
        result.rows.map((r) => result.columns.map((c) => r[c])),
      ),
    );
  }
  io.stdout.write(`${result.rows.length} row${result.rows.length === 1 ? '' : 's'}\n`);
  return 0;
}

function shorten(text: string, max: number): string {
  const t = printable(text);
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}
