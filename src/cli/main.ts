import { readFileSync } from 'node:fs';
import type { CliIo, Command } from './command.js';
import { renderCliError } from './render-error.js';
import { AirlockError } from '../errors.js';

/** Every command, one file each, loaded only when it runs: `--help` needs none of them. */
const COMMANDS: { name: string; summary: string; load: () => Promise<Command> }[] = [
  {
    name: 'run',
    summary: 'run a command in a new sandbox',
    load: async () => (await import('./run.js')).runCommand,
  },
  {
    name: 'daemon',
    summary: 'run the engine for long-lived sandboxes, with an API on a unix socket',
    load: async () => (await import('./daemon.js')).daemonCommand,
  },
  {
    name: 'create',
    summary: 'create a long-lived sandbox in the daemon and print its id',
    load: async () => (await import('./create.js')).createCommand,
  },
  {
    name: 'exec',
    summary: "run a command in one of the daemon's sandboxes",
    load: async () => (await import('./exec.js')).execCommand,
  },
  {
    name: 'ls',
    summary: "list the daemon's sandboxes",
    load: async () => (await import('./ls.js')).lsCommand,
  },
  {
    name: 'logs',
    summary: "show (and follow) one daemon sandbox's audit rows",
    load: async () => (await import('./logs.js')).logsCommand,
  },
  {
    name: 'stop',
    summary: "stop a daemon sandbox's commands gracefully and remove it",
    load: async () => (await import('./rm.js')).stopCommand,
  },
  {
    name: 'rm',
    summary: 'remove a daemon sandbox (--force while commands run)',
    load: async () => (await import('./rm.js')).rmCommand,
  },
  {
    name: 'update',
    summary: 'change a running daemon sandbox: attach or revoke credentials, budgets, endpoint rules',
    load: async () => (await import('./update.js')).updateCommand,
  },
  {
    name: 'audit',
    summary: 'show, query and prune the audit log of proxied requests',
    load: async () => (await import('./audit.js')).auditCommand,
  },
  {
    name: 'learn',
    summary: "propose a profile from what a sandbox did (its hosts, its endpoints' rules)",
    load: async () => (await import('./learn.js')).learnCommand,
  },
  {
    name: 'services',
    summary: 'list the services airlock can hold credentials for',
    load: async () => (await import('./services.js')).servicesCommand,
  },
  {
    name: 'profiles',
    summary: 'list network profiles and the hosts they allow',
    load: async () => (await import('./profiles.js')).profilesCommand,
  },
  {
    name: 'doctor',
    summary: 'check this machine can run sandboxes',
    load: async () => (await import('./doctor.js')).doctorCommand,
  },
  {
    name: 'gc',
    summary: 'remove leftovers of crashed runs',
    load: async () => (await import('./gc.js')).gcCommand,
  },
];

export function topLevelHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `airlock — run untrusted code with real API access and no way to steal the keys

Usage: airlock <command> [flags]

Commands:
${lines.join('\n')}

Run \`airlock <command> --help\` for a command's flags, \`airlock --version\` for the version.
`;
}

/** Dispatches argv to a command; returns the exit status instead of exiting. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  try {
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      io.stdout.write(topLevelHelp());
      return name === undefined ? 2 : 0;
    }
    if (name === '--version' || name === '-V') {
      io.stdout.write(`airlock ${packageVersion()}\n`);
      return 0;
    }
    const command = COMMANDS.find((c) => c.name === name);
    if (!command) {
      throw new AirlockError('AIRLOCK_ERR_USAGE', `unknown command "${name}"`, {
        hint: `commands: ${COMMANDS.map((c) => c.name).join(', ')}`,
      });
    }
    return await (await command.load()).run(args, io);
  } catch (error) {
    io.stderr.write(renderCliError(error, io.env.AIRLOCK_DEBUG === '1'));
    return isUsage(error) ? 2 : 1;
  }
}

/** The installed package's version (package.json sits two levels above src/cli and dist/cli). */
function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

function isUsage(error: unknown): boolean {
  return error instanceof AirlockError && error.code === 'AIRLOCK_ERR_USAGE';
}
