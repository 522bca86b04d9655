import type { CliIo, Command } from './command.js';
import { renderCliError } from './render-error.js';
import { AirlockError } from '../errors.js';
import { auditCommand } from './audit.js';
import { doctorCommand } from './doctor.js';
import { gcCommand } from './gc.js';
import { profilesCommand } from './profiles.js';
import { servicesCommand } from './services.js';
import { runCommand } from './run.js';

/** Every command, one file each. */
const COMMANDS: Command[] = [
  runCommand,
  auditCommand,
  servicesCommand,
  profilesCommand,
  doctorCommand,
  gcCommand,
];

export function topLevelHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `airlock — run untrusted code with real API access and no way to steal the keys

Usage: airlock <command> [flags]

Commands:
${lines.join('\n')}

Run \`airlock <command> --help\` for a command's flags.
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
    const command = COMMANDS.find((c) => c.name === name);
    if (!command) {
      throw new AirlockError('AIRLOCK_ERR_USAGE', `unknown command "${name}"`, {
        hint: `commands: ${COMMANDS.map((c) => c.name).join(', ')}`,
      });
    }
    return await command.run(args, io);
  } catch (error) {
    io.stderr.write(renderCliError(error, io.env.AIRLOCK_DEBUG === '1'));
    return isUsage(error) ? 2 : 1;
  }
}

function isUsage(error: unknown): boolean {
  return error instanceof AirlockError && error.code === 'AIRLOCK_ERR_USAGE';
}
