import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The result of one system command; output is kept for error messages (it never holds secrets). */
export interface CommandResult {
  ok: boolean;
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The whole environment of a system command: enough to find its helpers and print plain
 * messages, nothing of the caller's (no BASH_ENV, no HOME whose startup files a shell reads).
 */
const COMMAND_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' };

/**
 * Where a program lives: PATH first, then the sbin folders a non-login root shell may lack. A
 * path (with a `/`) is taken as it is, if it is executable.
 */
export function findProgram(program: string, env: NodeJS.ProcessEnv = process.env): string | null {
  if (program.includes('/')) return isExecutable(program) ? program : null;
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean).concat(['/usr/sbin', '/sbin']);
  return dirs.map((dir) => join(dir, program)).find(isExecutable) ?? null;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const resolved = new Map<string, string>();
/** The absolute path of a program airlock runs, looked up once per process. */
export function programPath(program: string): string {
  let path = resolved.get(program);
  if (path === undefined) {
    path = findProgram(program) ?? program; // not found: spawning it fails with a clear ENOENT
    resolved.set(program, path);
  }
  return path;
}

/**
 * Runs one program by absolute path with an argument array: no shell, so no quoting and no
 * shell startup file (a `bash -c` with a socket for stdin would read root's ~/.bashrc). Never
 * throws for a non-zero exit: callers decide what a failure means.
 */
export function runCommand(program: string, args: readonly string[], input?: string): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = process.getBuiltinModule('node:child_process').spawn(programPath(program), args, {
      env: COMMAND_ENV,
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    child.stdin?.on('error', () => undefined).end(input);
    const done = (exitCode: number | null, stderr: string) =>
      resolve({ ok: exitCode === 0, exitCode, stdout: Buffer.concat(out).toString(), stderr: stderr.trim() });
    child.once('error', (e) => done(null, `${program}: ${e.message}`));
    child.once('close', (code) => done(code, Buffer.concat(err).toString()));
  });
}
