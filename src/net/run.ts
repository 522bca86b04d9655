import { $, type ProcessOutput } from 'zx';

/** The result of one system command; output is kept for error messages (it never holds secrets). */
export interface CommandResult {
  ok: boolean;
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs one program with an argument array (zx quotes every element; nothing is joined into a
 * shell string by us). Never throws for a non-zero exit: callers decide what a failure means.
 */
export async function runCommand(
  program: string,
  args: readonly string[],
  input?: string,
): Promise<CommandResult> {
  const options =
    input === undefined ? { quiet: true, nothrow: true } : { quiet: true, nothrow: true, input };
  const out: ProcessOutput = await $(options)`${program} ${args}`;
  return { ok: out.exitCode === 0, exitCode: out.exitCode, stdout: out.stdout, stderr: out.stderr.trim() };
}
