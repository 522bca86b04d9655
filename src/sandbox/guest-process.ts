import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { constants } from 'node:os';
import type { GuestUser } from './guest-user.js';
import type { Tool } from './required-tools.js';

/** How to run one guest command. */
export interface GuestCommandOptions {
  /** working directory (omitted = /) */
  cwd?: string;
  /** variables added to the sandbox's guest environment for this command */
  env?: Record<string, string>;
  /** overrides the sandbox's guest user for this command */
  user?: GuestUser;
  /** stdio of the guest (omitted = pipes) */
  stdio?: StdioOptions;
}

/**
 * The argument vector that enters the namespace and drops privileges:
 * netns → own PID + mount namespace with a fresh /proc → uid/gid, no capabilities,
 * no_new_privs → tini as PID 1 (forwards signals, reaps zombies, exits 128+n on a signal).
 */
export function guestArgv(
  tools: Record<Tool, string>,
  netns: string,
  user: GuestUser,
  command: readonly string[],
): string[] {
  return [
    'netns', 'exec', netns,
    tools.unshare, '--pid', '--fork', '--mount-proc', '--kill-child', '--',
    tools.setpriv, `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups',
    '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--',
    tools.tini, '-g', '--',
    ...command,
  ]; // prettier-ignore
}

/**
 * Starts the guest chain. It uses child_process directly (an argument array, no shell)
 * rather than zx because the chain must lead its own process group: airlock forwards
 * signals to that group, and tini hands them to the command.
 */
export function startGuest(
  tools: Record<Tool, string>,
  argv: string[],
  env: Record<string, string>,
  cwd: string,
  stdio: StdioOptions,
): ChildProcess {
  return spawn(tools.ip, argv, { env, cwd, stdio, detached: true });
}

/** The shell convention for an exit: the code, or 128 + the signal number. */
export function exitStatusOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const n = signal ? constants.signals[signal] : undefined;
  return 128 + (n ?? 0);
}
