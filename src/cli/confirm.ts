import { createInterface } from 'node:readline';
import type { CliIo } from './command.js';

/**
 * Asks a yes/no question on the terminal: the question on stderr, the answer from stdin; only
 * `y` or `yes` is a yes. Resolves to undefined when stdin is not a terminal — nobody can be
 * asked, and the caller must refuse rather than guess.
 */
export function confirm(question: string, io: CliIo): Promise<boolean | undefined> {
  const input = io.stdin ?? process.stdin;
  if (!('isTTY' in input) || input.isTTY !== true) return Promise.resolve(undefined);
  io.stderr.write(`${question} [y/N] `);
  const lines = createInterface({ input, terminal: false });
  return new Promise((resolve) => {
    let answered = false;
    lines.once('line', (line) => {
      answered = true;
      lines.close();
      resolve(/^\s*y(es)?\s*$/i.test(line));
    });
    lines.once('close', () => {
      if (!answered) resolve(false);
    });
  });
}
