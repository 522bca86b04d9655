import { createInterface } from 'node:readline';
import { DaemonClient, socketPath } from '../daemon/client.js';
import type { RequestRecord } from '../audit/query.js';
import type { CliIo, Command } from './command.js';
import { parseFlags, stringFlag } from './flags.js';
import { printable } from './table.js';
import { AirlockError } from '../errors.js';

const HELP = `Usage: airlock logs [--follow] [--json] NAME|ID

Prints the audit rows of one of the daemon's sandboxes: every request its guests sent
through its proxy, allowed or refused, oldest first. With --follow, keeps printing rows as
their requests finish, until the sandbox is removed or you press Ctrl-C.

Flags:
  -f, --follow    keep printing new rows
  --json          one JSON object per row (NDJSON)
  --socket PATH   the daemon's socket (default: $AIRLOCK_SOCKET, else /run/airlock/airlock.sock)
  -h, --help      show this help
`;

function line(r: RequestRecord): string {
  const tokens =
    r.inputTokens !== null || r.outputTokens !== null
      ? ` tokens=${r.inputTokens ?? 0}+${r.outputTokens ?? 0}`
      : '';
  const reason = r.reason ? ` (${r.reason})` : '';
  return printable(
    `${r.startedAt} ${r.decision ?? 'in-flight'} ${r.status ?? '-'} ${r.method} ${r.host}${r.path}${r.service ? ` [${r.service}]` : ''}${tokens}${reason}`,
  );
}

export const logsCommand: Command = {
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const spelled = args.map((a) => (a === '-f' ? '--follow' : a));
    const { flags, help, rest } = parseFlags(
      spelled,
      { follow: {}, json: {}, socket: { value: true } },
      { command: 'logs' },
    );
    if (help) {
      io.stdout.write(HELP);
      return 0;
    }
    if (rest.length !== 1) {
      throw new AirlockError('AIRLOCK_ERR_USAGE', 'airlock logs: give one sandbox name or id', {
        hint: 'airlock logs [--follow] NAME|ID',
      });
    }
    const client = new DaemonClient(socketPath(stringFlag(flags, 'socket'), io.env));
    const res = await client.stream(
      `/v1/sandboxes/${encodeURIComponent(rest[0]!)}/logs${flags.follow ? '?follow=1' : ''}`,
    );
    const stop = () => res.destroy();
    process.once('SIGINT', stop);
    try {
      for await (const text of createInterface({ input: res })) {
        if (text === '') continue;
        io.stdout.write(flags.json ? `${text}\n` : `${line(JSON.parse(text) as RequestRecord)}\n`);
      }
    } catch (error) {
      if (!res.destroyed) throw error;
    } finally {
      process.off('SIGINT', stop);
    }
    return 0;
  },
};
