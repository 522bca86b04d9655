import { DaemonClient, socketPath } from '../daemon/client.js';
import type { BudgetView } from '../budget/index.js';
import type { SandboxInfo } from '../daemon/protocol.js';
import type { CliIo, Command } from './command.js';
import { parseFlags, stringFlag } from './flags.js';
import { renderTable } from './table.js';

const HELP = `Usage: airlock ls [--json] [--socket PATH]

Lists the airlock daemon's live sandboxes: name, id, age, profiles, credential names (never
values), requests and denied requests through its proxy, LLM tokens, its budgets (how much
of each is used), packets its guest's ruleset refused, and commands running now.

Flags:
  --json          print {sandboxes: [...]} as one JSON object
  --socket PATH   the daemon's socket (default: $AIRLOCK_SOCKET, else /run/airlock/airlock.sock)
  -h, --help      show this help
`;

/** `93` → `1m33s`: an age for people. */
export function formatAge(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  if (seconds < 86400)
    return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(seconds / 86400)}d${Math.floor((seconds % 86400) / 3600)}h`;
}

/** `40%`: how much of a budget is used (in flight included) */
function budgetUse(b: BudgetView): string {
  return `${Math.min(100, Math.floor(((b.used + b.reserved) / b.limit) * 100))}%`;
}

export const lsCommand: Command = {
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { flags, help } = parseFlags(args, { json: {}, socket: { value: true } }, { command: 'ls' });
    if (help) {
      io.stdout.write(HELP);
      return 0;
    }
    const client = new DaemonClient(socketPath(stringFlag(flags, 'socket'), io.env));
    const { sandboxes } = await client.call<{ sandboxes: SandboxInfo[] }>('GET', '/v1/sandboxes');
    if (flags.json) {
      io.stdout.write(`${JSON.stringify({ sandboxes })}\n`);
      return 0;
    }
    io.stdout.write(
      renderTable(
        [
          'NAME',
          'ID',
          'AGE',
          'PROFILES',
          'CREDENTIALS',
          'REQUESTS',
          'DENIED',
          'TOKENS',
          'BUDGET',
          'BLOCKED',
          'RUNNING',
        ],
        sandboxes.map((s) => [
          s.name,
          s.id,
          formatAge(s.ageSeconds),
          s.profiles.join(',') || null,
          s.credentials.join(',') || null,
          s.requests,
          s.denied,
          s.tokens,
          s.budgets.map((b) => `${b.budget}:${budgetUse(b)}`).join(',') || null,
          s.packetsBlocked,
          s.running,
        ]),
      ),
    );
    return 0;
  },
};
