import { DaemonClient, socketPath } from '../daemon/client.js';
import type { ChangeBody, SandboxInfo } from '../daemon/protocol.js';
import { AirlockError } from '../errors.js';
import { callerCredentials } from './caller-credentials.js';
import type { CliIo, Command } from './command.js';
import { listFlag, parseFlags, stringFlag } from './flags.js';

const HELP = `Usage: airlock update SANDBOX [flags]

Changes a running daemon sandbox. The change is checked against the daemon's config, put on
record in the audit log (\`airlock audit --query changes\`), then applies to the next request.

Flags:
  --cred NAME[=SRC]   attach a credential (repeatable), read as \`airlock create\` reads it;
                      commands started from now on get its placeholder and base URL
  --revoke NAME       take a credential away (repeatable): its requests are refused from now on
  --budget [CRED:]KIND=AMOUNT[/WINDOW]
                      the sandbox's budgets from now on (repeatable; replaces those it was
                      given; the config's stay). A budget kept keeps its count.
                      --budget none clears them
  --allow-endpoint 'S:METHOD:/PATH[ COUNT/WINDOW]'
                      the sandbox's endpoint rules (and their request rates) from now on
                      (repeatable; replaces those it was given; the config's stay).
                      --allow-endpoint none clears them
  --socket PATH       the daemon's socket (default: $AIRLOCK_SOCKET, else /run/airlock/airlock.sock)
  --json              print the sandbox as \`airlock ls --json\` shows it
  -h, --help          show this help
`;

const FLAGS = {
  cred: { value: true, multiple: true },
  revoke: { value: true, multiple: true },
  budget: { value: true, multiple: true },
  'allow-endpoint': { value: true, multiple: true },
  socket: { value: true },
  json: {},
} as const;

export const updateCommand: Command = {
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { flags, help, rest } = parseFlags(args, FLAGS, { command: 'update' });
    if (help) {
      io.stdout.write(HELP);
      return 0;
    }
    const [ref, ...extra] = rest;
    if (ref === undefined || extra.length > 0) {
      throw new AirlockError('AIRLOCK_ERR_USAGE', 'airlock update: name one sandbox', {
        hint: 'airlock update SANDBOX --revoke OPENAI_API_KEY',
      });
    }
    const body: ChangeBody = { ...callerCredentials(listFlag(flags, 'cred'), io.env) };
    if (flags.revoke) body.revoke = listFlag(flags, 'revoke');
    if (flags.budget) body.budgets = replacement(listFlag(flags, 'budget'), '--budget');
    if (flags['allow-endpoint'])
      body.allowEndpoints = replacement(listFlag(flags, 'allow-endpoint'), '--allow-endpoint');
    const client = new DaemonClient(socketPath(stringFlag(flags, 'socket'), io.env));
    const changed = await client.call<SandboxInfo>('PATCH', `/v1/sandboxes/${encodeURIComponent(ref)}`, body);
    io.stdout.write(flags.json ? `${JSON.stringify(changed)}\n` : `${changed.id}\n`);
    return 0;
  },
};

/** A list that replaces the sandbox's own: `none` alone clears it. */
function replacement(values: string[], flag: string): string[] {
  if (!values.includes('none')) return values;
  if (values.length > 1) {
    throw new AirlockError(
      'AIRLOCK_ERR_USAGE',
      `airlock update: ${flag} none clears the list; give it alone`,
      {
        hint: `airlock update SANDBOX ${flag} none`,
      },
    );
  }
  return [];
}
