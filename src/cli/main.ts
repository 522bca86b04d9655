import { readFileSync } from 'node:fs';
import type { CliIo, CommandEntry } from './command.js';
import { AIRLOCK_FAILURE, renderCliError, renderJsonError } from './render-error.js';
import { AirlockError } from '../errors.js';
import { loadCommand } from './load-command.js';

/** Every command, one file each, loaded only when it runs: `--help` needs none of them. */
const COMMANDS: CommandEntry[] = [
  {
    name: 'run',
    summary: 'run a command in a new sandbox',
    load: async () => (await loadCommand('run')).runCommand,
  },
  {
    name: 'daemon',
    summary: 'run the engine for long-lived sandboxes, with an API on a unix socket',
    load: async () => (await loadCommand('daemon')).daemonCommand,
  },
  {
    name: 'create',
    json: true,
    summary: 'create a long-lived sandbox in the daemon and print its id',
    load: async () => (await loadCommand('create')).createCommand,
  },
  {
    name: 'exec',
    summary: "run a command in one of the daemon's sandboxes",
    load: async () => (await loadCommand('exec')).execCommand,
  },
  {
    name: 'ls',
    json: true,
    summary: "list the daemon's sandboxes",
    load: async () => (await loadCommand('ls')).lsCommand,
  },
  {
    name: 'logs',
    json: true,
    summary: "show (and follow) one daemon sandbox's audit rows",
    load: async () => (await loadCommand('logs')).logsCommand,
  },
  {
    name: 'stop',
    summary: "stop a daemon sandbox's commands gracefully and remove it",
    load: async () => (await loadCommand('rm')).stopCommand,
  },
  {
    name: 'rm',
    summary: 'remove a daemon sandbox (--force while commands run)',
    load: async () => (await loadCommand('rm')).rmCommand,
  },
  {
    name: 'update',
    summary: 'change a running daemon sandbox: attach or revoke credentials, budgets, endpoint rules',
    load: async () => (await loadCommand('update')).updateCommand,
  },
  {
    name: 'audit',
    json: true,
    summary: 'show, query and prune the audit log of proxied requests',
    load: async () => (await loadCommand('audit')).auditCommand,
  },
  {
    name: 'learn',
    summary: "propose a profile from what a sandbox did (its hosts, its endpoints' rules)",
    load: async () => (await loadCommand('learn')).learnCommand,
  },
  {
    name: 'services',
    json: true,
    summary: 'list the services airlock can hold credentials for',
    load: async () => (await loadCommand('services')).servicesCommand,
  },
  {
    name: 'profiles',
    json: true,
    summary: 'list network profiles and the hosts they allow',
    load: async () => (await loadCommand('profiles')).profilesCommand,
  },
  {
    name: 'doctor',
    json: true,
    summary: 'check this machine can run sandboxes, or (--config) a config file',
    load: async () => (await loadCommand('doctor')).doctorCommand,
  },
  {
    name: 'completion',
    summary: 'print a bash or zsh completion script',
    load: async () => (await loadCommand('completion')).completionCommand(COMMANDS),
  },
  {
    name: 'gc',
    json: true,
    summary: 'remove leftovers of crashed runs',
    load: async () => (await loadCommand('gc')).gcCommand,
  },
];

export function topLevelHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `airlock — run untrusted code with real API access and no way to steal the keys

Usage: airlock <command> [flags]

Commands:
${lines.join('\n')}

Run \`airlock help <command>\` (or \`airlock <command> --help\`) for a command's flags,
\`airlock --version\` for the version.

Exit status: the guest command's own (run, exec); 125 when airlock itself fails (usage,
config, setup); 126 when the command cannot be run; 127 when it is not found.
`;
}

/** Dispatches argv to a command; returns the exit status instead of exiting. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  const entry = COMMANDS.find((c) => c.name === name);
  try {
    if (name === undefined || name === '--help' || name === '-h') {
      io.stdout.write(topLevelHelp());
      return name === undefined ? AIRLOCK_FAILURE : 0;
    }
    if (name === 'help') return await help(args, io);
    if (name === '--version' || name === '-V') {
      io.stdout.write(`airlock ${packageVersion()}\n`);
      return 0;
    }
    if (!entry) throw await unknownCommand(name);
    return await (await entry.load()).run(args, io);
  } catch (error) {
    const json = entry?.json === true && flagGiven(args, '--json');
    io.stderr.write(json ? renderJsonError(error) : renderCliError(error, io.env.AIRLOCK_DEBUG === '1'));
    return AIRLOCK_FAILURE;
  }
}

/** `airlock help [COMMAND]`: the top-level help, or that command's own. */
async function help(args: string[], io: CliIo): Promise<number> {
  const [name] = args;
  if (name === undefined) {
    io.stdout.write(topLevelHelp());
    return 0;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) throw await unknownCommand(name);
  io.stdout.write((await entry.load()).help);
  return 0;
}

/** The error for an unknown command, with the closest one (loaded only then: `--help` stays small). */
async function unknownCommand(name: string): Promise<AirlockError> {
  const { didYouMean } = await import('../did-you-mean.js');
  const names = COMMANDS.map((c) => c.name);
  return new AirlockError('AIRLOCK_ERR_USAGE', `unknown command "${name}"`, {
    hint: `${didYouMean(name, names)}commands: ${names.join(', ')}`,
  });
}

/** Whether a flag is among a command's own words (those before `--`). */
function flagGiven(args: readonly string[], flag: string): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).includes(flag);
}

/** The installed package's version (package.json sits two levels above src/cli and dist/cli). */
function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}
