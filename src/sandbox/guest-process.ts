import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { AirlockError } from '../errors.js';
import { inNetns } from '../net/netns.js';
import { vforkSpawn, type ChildDescriptor } from '../net/vfork-spawn.js';
import type { SandboxCgroup } from './cgroup.js';
import type { GuestUser } from './guest-user.js';
import { launcherArgv } from './guest-launcher.js';
import { guestViewArgs, type GuestViewOptions } from './guest-view.js';
import type { Tool } from './required-tools.js';
import { guestFilterBytes, type SeccompArch } from './seccomp.js';

/** How to run one guest command. */
export interface GuestCommandOptions {
  /** host folder bound read-write at the same path as the working directory (omitted or null = none: HOME) */
  workdir?: string | null;
  /** variables added to the sandbox's guest environment for this command */
  env?: Record<string, string>;
  /** overrides the sandbox's guest user for this command */
  user?: GuestUser;
  /** stdio of the guest, all three alike or each (omitted = pipes) */
  stdio?: GuestStdio | readonly [GuestStdio, GuestStdio, GuestStdio];
}

/** One of a guest's stdin, stdout and stderr: a pipe to airlock, airlock's own, or /dev/null. */
export type GuestStdio = 'pipe' | 'inherit' | 'ignore';

/** A running guest command. */
export interface GuestProcess {
  /** bubblewrap's pid: the guest's chain starts there */
  pid: number;
  /** the pipes to and from the guest (null where its stdio is not 'pipe') */
  stdin: Writable | null;
  stdout: Readable | null;
  stderr: Readable | null;
  /** resolves once the command runs inside its cgroup (rejects if it never could) */
  started: Promise<void>;
  /** resolves with the shell-style exit status (128 + n when killed by signal n) */
  exited: Promise<number>;
  /** sends a signal to the guest command and its process group (the sandbox's init ignores it) */
  signal(signal: NodeJS.Signals): void;
  /** kills every process of this command's PID namespace at once */
  kill(): void;
}

// file descriptors bubblewrap reads and writes besides stdio
const SECCOMP_FD = 3;
const STATUS_FD = 4;
const BLOCK_FD = 5;
/** the first descriptor of the view's data files (`GuestViewOptions.files`), one each from here */
export const FIRST_FILE_FD = 6;

/**
 * bubblewrap's argument vector: bubblewrap, started inside the sandbox's network namespace
 * (startGuest), builds the guest's PID, IPC and UTS namespaces and its file system view,
 * applies the system-call filter, and dies with airlock (so its PID 1, and with it every guest
 * process, dies too); setpriv drops to the guest user with no capabilities and no_new_privs;
 * the launcher reports a command it cannot find or run.
 */
export function guestArgv(
  tools: Record<Tool, string>,
  view: GuestViewOptions,
  user: GuestUser,
  command: readonly string[],
): string[] {
  return [
    '--die-with-parent', '--new-session',
    '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--hostname', 'airlock',
    '--seccomp', String(SECCOMP_FD), '--json-status-fd', String(STATUS_FD), '--block-fd', String(BLOCK_FD),
    ...guestViewArgs(view),
    '--',
    tools.setpriv, `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups',
    '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--',
    ...launcherArgv(command),
  ]; // prettier-ignore
}

/**
 * Starts the guest chain (posix_spawn, net/vfork-spawn.ts: an argument array, no shell)
 * inside the network namespace `netns` (spawned while the main thread stands in it: no
 * `ip netns exec` process), and holds it before the command runs: bubblewrap reports its
 * sandbox's PID 1, airlock moves bubblewrap and that PID 1 into the sandbox's cgroup, and only
 * then lets it go on. `files` are the contents of the view's data files, written to their
 * descriptors. It must be spawned from the main thread: the parent-death signal fires when the
 * spawning thread ends.
 */
export function startGuest(
  tools: Record<Tool, string>,
  netns: string,
  argv: string[],
  env: Record<string, string>,
  stdio: NonNullable<GuestCommandOptions['stdio']>,
  cgroup: SandboxCgroup,
  arch: SeccompArch,
  files: readonly (readonly string[])[] = [],
): GuestProcess {
  const std = typeof stdio === 'string' ? [stdio, stdio, stdio] : stdio;
  const piped = (kind: GuestStdio, direction: ChildDescriptor): ChildDescriptor =>
    kind === 'pipe' ? direction : kind;
  const program = inNetns(netns, () =>
    vforkSpawn(tools.bwrap, [tools.bwrap, ...argv], {
      env,
      cwd: '/',
      fds: [
        piped(std[0], 'to-child'),
        piped(std[1], 'from-child'),
        piped(std[2], 'from-child'),
        'to-child', // SECCOMP_FD
        'from-child', // STATUS_FD
        'to-child', // BLOCK_FD
        ...files.map(() => 'to-child' as const),
      ],
      detached: true,
    }),
  );
  const { pid, pipes } = program;
  const writable = (fd: number) => (pipes[fd] as Writable).on('error', () => undefined);
  // the view's data files, in the order of their descriptors from FIRST_FILE_FD
  files.forEach((parts, i) => {
    const pipe = writable(FIRST_FILE_FD + i);
    for (const part of parts) pipe.write(part);
    pipe.end();
  });
  writable(SECCOMP_FD).end(guestFilterBytes(arch));
  const blockFd = writable(BLOCK_FD);
  let initPid: number | undefined;
  let killed = false;
  const killAll = () => {
    for (const p of [initPid, pid]) {
      try {
        if (p !== undefined) process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  // The chain goes into the cgroup at once, while it starts: moving a process costs the kernel
  // a wait of its own (~10 ms on cgroup v1), and a PID 1 forked after this is born inside.
  let attachError: Error | undefined;
  try {
    cgroup.attach(pid);
  } catch (error) {
    attachError = error instanceof Error ? error : new Error(String(error));
  }
  const started = firstLine(pipes[STATUS_FD] as Readable).then((line) => {
    try {
      if (line === null)
        throw new AirlockError('AIRLOCK_ERR_GUEST_START', 'the guest ended before it started');
      initPid = (JSON.parse(line) as { 'child-pid'?: number })['child-pid'];
      if (killed || initPid === undefined)
        throw new AirlockError('AIRLOCK_ERR_SANDBOX_CLOSED', 'killed before it started');
      if (attachError !== undefined) throw attachError;
      // (both already inside, unless bubblewrap forked PID 1 before the first move)
      cgroup.attach(pid);
      cgroup.attach(initPid);
    } catch (error) {
      killAll();
      throw error;
    }
    blockFd.end('go');
  });
  started.catch(() => undefined);
  const exited = program.closed.then(({ code, signal }) => exitStatusOf(code, signal));
  const kill = () => {
    killed = true;
    // before PID 1 is known, the status handler kills it the moment it is
    if (initPid !== undefined) killAll();
  };
  return {
    pid,
    stdin: pipes[0] as Writable | null,
    stdout: pipes[1] as Readable | null,
    stderr: pipes[2] as Readable | null,
    started,
    exited,
    signal(signal) {
      if (initPid === undefined) return kill(); // no guest code ran yet
      try {
        process.kill(-initPid, signal);
      } catch {
        // already exited
      }
    },
    kill,
  };
}

/** The first line `stream` carries (without its newline), or null if it ends first. */
function firstLine(stream: Readable): Promise<string | null> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      const end = text.indexOf('\n');
      if (end < 0) return;
      stream.off('data', onData);
      stream.resume(); // what follows (bubblewrap's exit report) is not needed
      resolve(text.slice(0, end));
    };
    stream.on('data', onData);
    stream.once('close', () => resolve(null));
  });
}

/** The shell convention for an exit: the code, or 128 + the signal number. */
export function exitStatusOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const n = signal ? constants.signals[signal] : undefined;
  return 128 + (n ?? 0);
}
