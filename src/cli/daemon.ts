import { airlockHome } from '../config/env-vars.js';
import { loadConfig } from '../config/load-config.js';
import { socketPath } from '../daemon/client.js';
import { startDaemon } from '../daemon/server.js';
import { claimSocketPath, lookupGroup } from '../daemon/socket-file.js';
import { Engine } from '../engine/engine.js';
import { assertRoot } from '../sandbox/privileges.js';
import type { CliIo, Command } from './command.js';
import { parseFlags, stringFlag } from './flags.js';
import { renderCliError } from './render-error.js';

const HELP = `Usage: airlock daemon [--config FILE] [--socket PATH]

Runs the airlock engine in the foreground for long-lived sandboxes (airlock create, exec,
ls, logs, stop, rm), with an HTTP API on a unix socket. The socket is root's alone (0600),
or root:GROUP 0660 when the config names daemon.group; whoever can use it gets what the
config grants and nothing more (see docs/daemon.md). For systemd: scripts/airlock.service,
then \`systemctl enable --now airlock\`.

SIGTERM or SIGINT removes every sandbox and the socket, then exits 0. SIGHUP re-reads and
checks the config file and logs the result; the running engine keeps the config it started
with (a restart applies it, and ends the sandboxes). Sandboxes die with the daemon: their
guests are killed with it, and the next start (or \`airlock gc\`) removes what they left.

Flags:
  --config FILE   configuration file (default: $AIRLOCK_CONFIG, else /etc/airlock/config.json)
  --socket PATH   the socket (default: $AIRLOCK_SOCKET, else /run/airlock/airlock.sock)
  -h, --help      show this help
`;

export const daemonCommand: Command = {
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { flags, help } = parseFlags(
      args,
      { config: { value: true }, socket: { value: true } },
      { command: 'daemon' },
    );
    if (help) {
      io.stdout.write(HELP);
      return 0;
    }
    assertRoot('airlock daemon');
    const configPath = stringFlag(flags, 'config');
    const config = loadConfig(configPath, { env: io.env });
    const group =
      config.config.daemon.group === undefined ? undefined : lookupGroup(config.config.daemon.group);
    const path = socketPath(stringFlag(flags, 'socket'), io.env);
    const log = (line: string) => io.stderr.write(`airlock daemon: ${line}\n`);
    await claimSocketPath(path); // "already running" before any sandbox state is touched
    const engine = await Engine.open({
      home: airlockHome(io.env),
      config,
      invokingEnv: io.env,
      logStream: io.stderr,
    });
    let daemon;
    try {
      daemon = await startDaemon({ engine, socketPath: path, group, log });
    } catch (error) {
      await engine.close();
      throw error;
    }
    log(
      `listening on ${path} (${group === undefined ? 'root only' : `root and group ${group.name}`}), state in ${engine.home}, pid ${process.pid}`,
    );
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      const onHup = () => {
        try {
          const next = loadConfig(configPath, { env: io.env });
          log(
            `SIGHUP: config ${next.path ?? '(defaults)'} re-read and valid; not applied: the engine keeps the config it started with (restart the daemon to apply it; that ends its sandboxes)`,
          );
        } catch (error) {
          log(
            `SIGHUP: config not valid, keeping the running one: ${renderCliError(error).trim().replace(/\n\s*/g, ' | ')}`,
          );
        }
      };
      const stop = (s: NodeJS.Signals) => {
        process.off('SIGHUP', onHup);
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        resolve(s);
      };
      process.on('SIGHUP', onHup);
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
    log(`${signal}: removing ${engine.list().length} sandbox(es) and the socket`);
    try {
      // sandboxes first: their commands die and each exec stream gets its exit status
      await engine.close();
    } finally {
      await daemon.close();
    }
    log('stopped');
    return 0;
  },
};
