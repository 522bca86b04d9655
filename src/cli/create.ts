import { DaemonClient, socketPath } from '../daemon/client.js';
import { AirlockError } from '../errors.js';
import type { CreateBody, CreatedSandbox } from '../daemon/protocol.js';
import { parseEnvAssignments } from '../sandbox/guest-env.js';
import { callerCredentials } from './caller-credentials.js';
import type { CliIo, Command } from './command.js';
import { interceptFlag, listFlag, parseFlags, stringFlag } from './flags.js';

const HELP = `Usage: airlock create [flags]

Asks the airlock daemon for a long-lived sandbox and prints its id once it is ready. Run
commands in it with \`airlock exec\`, list it with \`airlock ls\`, remove it with
\`airlock rm\`. The sandbox is enforced like \`airlock run\`'s; it lives until it is
removed or the daemon stops.

Flags:
  --name NAME         a unique name for exec, logs and rm (default: none, use the id)
  --profile NAME      network profile (repeatable, composes); see \`airlock profiles\`
  --cred NAME[=SRC]   grant a credential (repeatable). NAME=env:VAR and NAME=file:PATH are
                      read here, by this user, and the value is handed to the daemon; NAME
                      reads $NAME here when it is set, else asks for the daemon config's
                      credential of that name
  --allow-endpoint S:METHOD:/PATH
                      allow only these endpoints of service S (repeatable); a rate after
                      a space caps the requests a rule matches: 'openai:POST:/v1/* 60/1m'
  --budget [CRED:]KIND=AMOUNT[/WINDOW]
                      a token, cost or request budget (repeatable), e.g. tokens=200k/1h,
                      usd=5/day, OPENAI_API_KEY:output=50k; the config's budgets apply too;
                      see docs/budgets.md
  --learn             record what the sandbox does for \`airlock learn\`: endpoint rules are
                      not enforced (refused when the daemon config has endpoint rules)
  --intercept SCOPE   which HTTPS tunnels airlock opens with the sandbox's own CA:
                      credentials or all (default: the daemon config's; see docs/proxy.md)
  --env K=V           set a variable in every command of the sandbox (repeatable)
  --user USER         guest user; daemon sandboxes run as the config's daemon.guestUser
                      (default nobody) and no other
  --memory SIZE       memory of the whole sandbox, e.g. 512m or 2g
  --pids N            processes and threads at once
  --cpus N            CPU time as a number of CPUs, e.g. 1.5
  --socket PATH       the daemon's socket (default: $AIRLOCK_SOCKET, else /run/airlock/airlock.sock)
  --json              print {id, name, proxyUrl, warnings} as JSON
  -h, --help          show this help

No --workdir or --mount: the daemon shows its guests no host folder (see docs/daemon.md).
`;

const FLAGS = {
  name: { value: true },
  profile: { value: true, multiple: true },
  cred: { value: true, multiple: true },
  'allow-endpoint': { value: true, multiple: true },
  budget: { value: true, multiple: true },
  learn: {},
  intercept: { value: true },
  env: { value: true, multiple: true },
  user: { value: true },
  memory: { value: true },
  pids: { value: true },
  cpus: { value: true },
  socket: { value: true },
  json: {},
} as const;

export const createCommand: Command = {
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { flags, help, rest } = parseFlags(args, FLAGS, { command: 'create' });
    if (help) {
      io.stdout.write(HELP);
      return 0;
    }
    if (rest.length > 0) {
      throw new AirlockError('AIRLOCK_ERR_USAGE', `airlock create: unexpected argument "${rest[0]}"`, {
        hint: 'create takes flags only; run commands with airlock exec NAME -- CMD',
      });
    }
    const { credentials, secrets } = callerCredentials(listFlag(flags, 'cred'), io.env);
    const limits = {
      memory: stringFlag(flags, 'memory'),
      pids: stringFlag(flags, 'pids'),
      cpus: stringFlag(flags, 'cpus'),
    };
    const body: CreateBody = {
      name: stringFlag(flags, 'name'),
      profiles: listFlag(flags, 'profile'),
      credentials,
      secrets,
      allowEndpoints: listFlag(flags, 'allow-endpoint'),
      budgets: listFlag(flags, 'budget'),
      learn: flags.learn === true,
      intercept: interceptFlag(stringFlag(flags, 'intercept')),
      env: parseEnvAssignments(listFlag(flags, 'env')),
      limits: Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)),
      user: stringFlag(flags, 'user'),
    };
    const client = new DaemonClient(socketPath(stringFlag(flags, 'socket'), io.env));
    const created = await client.call<CreatedSandbox>('POST', '/v1/sandboxes', body);
    for (const warning of created.warnings) io.stderr.write(`airlock: warning: ${warning}\n`);
    io.stdout.write(flags.json ? `${JSON.stringify(created)}\n` : `${created.id}\n`);
    return 0;
  },
};
