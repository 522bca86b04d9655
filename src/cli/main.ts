#!/usr/bin/env node
import type { CliIo, Command } from './command.js';
import { renderCliError } from './render-error.js';
import { AirlockError } from '../errors.js';

/** Every command, one file each. */
const COMMANDS: Command[] = [];

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

// Run when executed as the bin (not when imported by tests).
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const status = await main(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
  });
  process.exitCode = status;
}
