import { DaemonClient, socketPath } from '../daemon/client.js';
import { AirlockError } from '../errors.js';
import type { CliIo, Command } from './command.js';
import { parseFlags, stringFlag, type FlagSpec } from './flags.js';
import { renderCliError } from './render-error.js';

const RM_HELP = `Usage: airlock rm [--force] NAME|ID...

Removes sandboxes of the airlock daemon: their proxy, namespace, link, firewall element and
cgroup; nothing is left behind. A sandbox that still runs commands is refused unless
--force, which kills them at once (see also \`airlock stop\`).

Flags:
  -f, --force     remove it even while commands run (they are killed)
  --socket PATH   the daemon's socket (default: $AIRLOCK_SOCKET, else /run/airlock/airlock.sock)
  -h, --help      show this help
`;

const STOP_HELP = `Usage: airlock stop NAME|ID...

Stops sandboxes of the airlock daemon gracefully, then removes them: every command still
running gets SIGTERM and the config's limits.graceSeconds (default 10) to exit, then what
is left is killed and the sandbox removed like \`airlock rm\`; nothing is left behind.

Flags:
  --socket PATH   the daemon's socket (default: $AIRLOCK_SOCKET, else /run/airlock/airlock.sock)
  -h, --help      show this help
`;

function removal(command: 'rm' | 'stop'): Command {
  const help = command === 'rm' ? RM_HELP : STOP_HELP;
  return {
    help,
    async run(args: string[], io: CliIo): Promise<number> {
      const spelled = args.map((a) => (a === '-f' && command === 'rm' ? '--force' : a));
      const spec: Record<string, FlagSpec> =
        command === 'rm' ? { force: {}, socket: { value: true } } : { socket: { value: true } };
      const parsed = parseFlags(spelled, spec, { command });
      if (parsed.help) {
        io.stdout.write(help);
        return 0;
      }
      if (parsed.rest.length === 0) {
        throw new AirlockError('AIRLOCK_ERR_USAGE', `airlock ${command}: give a sandbox name or id`);
      }
      const client = new DaemonClient(socketPath(stringFlag(parsed.flags, 'socket'), io.env));
      let status = 0;
      for (const ref of parsed.rest) {
        const path = `/v1/sandboxes/${encodeURIComponent(ref)}`;
        try {
          if (command === 'rm') await client.call('DELETE', `${path}${parsed.flags.force ? '?force=1' : ''}`);
          else await client.call('POST', `${path}/stop`);
          io.stdout.write(`${ref}\n`);
        } catch (error) {
          // the others are still removed; each failure is reported
          if (parsed.rest.length === 1) throw error;
          io.stderr.write(renderCliError(error));
          status = 1;
        }
      }
      return status;
    },
  };
}

export const rmCommand = removal('rm');
export const stopCommand = removal('stop');
