import { AirlockError } from '../errors.js';
import { parseEnvAssignments } from '../sandbox/guest-env.js';
import { airlockHome } from '../config/env-vars.js';
import { loadConfig } from '../config/load-config.js';
import { launchSandbox } from '../sandbox/launch.js';
import type { CliIo, Command } from './command.js';
import { listFlag, parseFlags, stringFlag } from './flags.js';

const FLAGS = {
  profile: { value: true, multiple: true },
  cred: { value: true, multiple: true },
  config: { value: true },
  'allow-endpoint': { value: true, multiple: true },
  env: { value: true, multiple: true },
  name: { value: true },
  user: { value: true },
  workdir: { value: true },
} as const;

const HELP = `Usage: airlock run [flags] -- CMD [ARGS...]

Runs CMD in a new sandbox: its own network namespace whose only way out is TCP to its
gateway on the proxy port, its own PID and mount namespace, an unprivileged user with no
capabilities, and a clean environment. The sandbox is removed when CMD exits.

Flags:
  --profile NAME      network profile (repeatable, composes): deny-all, llm-only, github,
                      open, or one from the config file; see \`airlock profiles\`
  --cred NAME[=SRC]   grant a credential: NAME reads $NAME, NAME=env:VAR, NAME=file:PATH
                      (repeatable); the guest gets a placeholder and base URL instead
  --allow-endpoint S:METHOD:/PATH
                      allow only these endpoints of service S (repeatable), e.g.
                      openai:POST:/v1/chat/completions
  --config FILE       configuration file (default: $AIRLOCK_CONFIG, else /etc/airlock/config.json)
  --env K=V           set a variable in the guest (repeatable)
  --name NAME         a label for the sandbox
  --user USER         guest user: NAME, UID or UID:GID (default: the sudo caller, else nobody)
  --workdir DIR       working directory of CMD (default: the current directory)
  -h, --help          show this help

Exit status: CMD's own; 127 when CMD is not found; 128+n when it dies of signal n.
Ctrl-C and other signals are passed to CMD.
`;

/** Signals a user sends to "the program"; airlock hands them to the guest. */
const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

export const runCommand: Command = {
  name: 'run',
  summary: 'run a command in a new sandbox',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { flags, rest, help } = parseFlags(args, FLAGS, { stopAtPositional: true, command: 'run' });
    if (help) {
      io.stdout.write(HELP);
      return 0;
    }
    if (rest.length === 0) {
      throw new AirlockError('AIRLOCK_ERR_USAGE', 'airlock run: no command given', {
        hint: 'airlock run [flags] -- CMD [ARGS...]',
      });
    }
    const env = parseEnvAssignments(listFlag(flags, 'env'));
    const workdir = stringFlag(flags, 'workdir') ?? process.cwd();
    const launched = await launchSandbox({
      config: loadConfig(stringFlag(flags, 'config'), { env: io.env }),
      credentials: listFlag(flags, 'cred'),
      profiles: listFlag(flags, 'profile'),
      allowEndpoints: listFlag(flags, 'allow-endpoint'),
      home: airlockHome(io.env),
      name: stringFlag(flags, 'name'),
      user: stringFlag(flags, 'user'),
      env,
      invokingEnv: io.env,
      logStream: io.stderr,
    });
    for (const warning of launched.warnings) io.stderr.write(`airlock: warning: ${warning}\n`);
    const { sandbox } = launched;
    let status: number | null = null;
    try {
      const guest = sandbox.spawn(rest, { cwd: workdir, stdio: 'inherit' });
      const forward = (signal: NodeJS.Signals) => guest.signal(signal);
      for (const s of FORWARDED_SIGNALS) process.on(s, forward);
      try {
        status = await guest.exited;
      } finally {
        for (const s of FORWARDED_SIGNALS) process.off(s, forward);
      }
      return status;
    } finally {
      await launched.close(status);
    }
  },
};
