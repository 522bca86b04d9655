import { AirlockError } from '../errors.js';
import { parseEnvAssignments } from '../sandbox/guest-env.js';
import { Sandbox } from '../sandbox/sandbox.js';
import type { CliIo, Command } from './command.js';
import { listFlag, parseFlags, stringFlag } from './flags.js';

const FLAGS = {
  profile: { value: true, multiple: true },
  cred: { value: true, multiple: true },
  config: { value: true },
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
  --profile NAME      network profile (repeatable) [not built yet]
  --cred NAME[=SRC]   grant a credential: from the environment, env:VAR or file:PATH
                      (repeatable) [not built yet]
  --config FILE       configuration file
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
    for (const notYet of ['profile', 'cred', 'config'] as const) {
      if (flags[notYet] !== undefined) {
        throw new AirlockError('AIRLOCK_ERR_NOT_YET', `airlock run --${notYet} is not built yet`, {
          hint: 'leave it out for now; sandboxes currently reach nothing but their gateway',
        });
      }
    }
    if (rest.length === 0) {
      throw new AirlockError('AIRLOCK_ERR_USAGE', 'airlock run: no command given', {
        hint: 'airlock run [flags] -- CMD [ARGS...]',
      });
    }
    const env = parseEnvAssignments(listFlag(flags, 'env'));
    const workdir = stringFlag(flags, 'workdir') ?? process.cwd();
    const sandbox = await Sandbox.create({
      name: stringFlag(flags, 'name'),
      user: stringFlag(flags, 'user'),
      env,
      invokingEnv: io.env,
    });
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
      await sandbox.close(status);
    }
  },
};
