import { DaemonClient, socketPath } from '../daemon/client.js';
import { FRAME } from '../daemon/frames.js';
import { AirlockError } from '../errors.js';
import { parseEnvAssignments } from '../sandbox/guest-env.js';
import type { CliIo, Command } from './command.js';
import { listFlag, parseFlags, stringFlag } from './flags.js';

const HELP = `Usage: airlock exec [flags] NAME|ID -- CMD [ARGS...]

Runs CMD in a sandbox of the airlock daemon (see \`airlock create\`) and streams its output.
Many commands may run in one sandbox at once. Ctrl-C, SIGTERM and SIGHUP are passed to
CMD; if this client goes away, CMD is killed.

Flags:
  --env K=V        set a variable for CMD (repeatable)
  -i               pass this terminal's standard input to CMD (default: CMD reads nothing)
  -t               run CMD on a terminal (made by \`script\` inside the sandbox; no resize)
  --socket PATH    the daemon's socket (default: $AIRLOCK_SOCKET, else /run/airlock/airlock.sock)
  -h, --help       show this help

No --workdir: commands start in the guest's empty HOME (see docs/daemon.md).
Exit status: CMD's own; 125 when airlock fails (usage, daemon, sandbox); 126 when CMD
cannot be run; 127 when it is not found; 128+n when it dies of signal n.
`;

const FLAGS = { env: { value: true, multiple: true }, socket: { value: true }, i: {}, t: {} } as const;

/** Signals passed on to the command. */
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export const execCommand: Command = {
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    // -i, -t and -it are spelled like docker's; the flag parser knows long flags only
    const dashes = args.indexOf('--');
    const head = (dashes < 0 ? args : args.slice(0, dashes)).flatMap((a) =>
      a === '-it' || a === '-ti' ? ['--i', '--t'] : a === '-i' || a === '-t' ? [`-${a}`] : [a],
    );
    // with --, flags may follow the sandbox's name; without, CMD starts at the second word
    const { flags, rest, help } = parseFlags(head, FLAGS, { command: 'exec', stopAtPositional: dashes < 0 });
    if (help) {
      io.stdout.write(HELP);
      return 0;
    }
    const [ref, ...more] = rest;
    const command = dashes < 0 ? more : args.slice(dashes + 1);
    if (ref === undefined || command.length === 0 || (dashes >= 0 && more.length > 0)) {
      throw new AirlockError('AIRLOCK_ERR_USAGE', 'airlock exec: give one sandbox and a command', {
        hint: 'airlock exec NAME|ID [--env K=V] [-i] [-t] -- CMD [ARGS...]',
      });
    }
    const interactive = flags.i === true;
    const tty = flags.t === true;
    const client = new DaemonClient(socketPath(stringFlag(flags, 'socket'), io.env));
    const stream = await client.exec(ref, { command, env: parseEnvAssignments(listFlag(flags, 'env')), tty });
    const stdin = io.stdin ?? process.stdin;
    const raw = tty && interactive && 'isTTY' in stdin && stdin.isTTY === true;
    const onSignal = (signal: NodeJS.Signals) => stream.signal(signal);
    for (const s of FORWARDED) process.on(s, onSignal);
    const onInput = (b: Buffer) => {
      if (!stream.stdin(b)) {
        stdin.pause();
        stream.socket.once('drain', () => stdin.resume());
      }
    };
    const onEnd = () => stream.stdinEof();
    if (interactive) {
      if (raw) (stdin as NodeJS.ReadStream).setRawMode(true);
      stdin.on('data', onInput);
      stdin.once('end', onEnd);
    } else {
      stream.stdinEof();
    }
    try {
      return await stream.run((frame) => {
        const out = frame.type === FRAME.stderr ? io.stderr : io.stdout;
        if (frame.type !== FRAME.stdout && frame.type !== FRAME.stderr) return;
        if (!out.write(frame.payload)) {
          stream.socket.pause();
          out.once('drain', () => stream.socket.resume());
        }
      });
    } finally {
      for (const s of FORWARDED) process.off(s, onSignal);
      if (interactive) {
        stdin.off('data', onInput);
        stdin.off('end', onEnd);
        if (raw) (stdin as NodeJS.ReadStream).setRawMode(false);
        stdin.pause();
      }
    }
  },
};
