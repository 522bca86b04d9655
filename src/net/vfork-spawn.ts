import { channel } from 'node:diagnostics_channel';
import { Socket } from 'node:net';
import { constants } from 'node:os';
import { close, dupAbove, makeBlocking, posixSpawn, socketPair, waitNoHang } from './libc.js';

/**
 * Starts a program with posix_spawn instead of child_process. libuv forks, and a fork copies
 * this process's page tables while the event loop waits: 6 ms from a bare Node process, 12–21 ms
 * from one of 150–470 MB, which every sandbox of a daemon waits through at each guest's start.
 * glibc's posix_spawn is a vfork: ~0.6 ms, whatever this process's size.
 *
 * What child_process would do around it is done here: socket pairs for the piped descriptors
 * (as Node's own child stdio), and reaping at SIGCHLD (libuv waits only for the pids it
 * spawned itself). Unlike child_process, the child gets no descriptor but those it is given:
 * one this process inherited without close-on-exec (its caller's file or socket) is closed.
 */

/**
 * Published with `{ file, pid }` for every program started here, so that what airlock starts
 * stays countable from outside (as child_process's spawns are, at ChildProcess).
 */
export const PROCESS_START_CHANNEL = 'airlock:process-start';
const processStart = channel(PROCESS_START_CHANNEL);

/** One descriptor of the child: this process's own, /dev/null, or a pipe either way. */
export type ChildDescriptor = 'inherit' | 'ignore' | 'to-child' | 'from-child';

export interface VforkOptions {
  env: Record<string, string>;
  cwd: string;
  /** the child's descriptors from 0 up */
  fds: readonly ChildDescriptor[];
  /** a session of its own, as child_process's `detached` */
  detached: boolean;
}

export interface VforkedProgram {
  readonly pid: number;
  /** this process's end of each piped descriptor, by the child's descriptor number (else null) */
  readonly pipes: readonly (Socket | null)[];
  /** once the program has ended and every pipe from it has closed: its exit code, or its signal */
  readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `file` with `argv` (argv[0] included); throws at once if the exec fails. */
export function vforkSpawn(file: string, argv: readonly string[], options: VforkOptions): VforkedProgram {
  const { fds } = options;
  const mine: (number | null)[] = [];
  const toClose: number[] = []; // the child's ends, which this process must not keep
  const dup2: [number, number][] = [];
  let pid: number;
  let ended: Promise<number>;
  watchChildren(); // before the spawn: an early exit's SIGCHLD must find the listener
  try {
    fds.forEach((kind, i) => {
      if (kind === 'ignore') return void mine.push(null);
      if (kind === 'inherit') {
        // a copy, dup2'ed onto the number: Node marks even 0-2 close-on-exec, and a dup2 clears
        // it; blocking, as child_process leaves a child's stdio (and with it this process's)
        const copy = dupAbove(i, fds.length);
        makeBlocking(copy);
        toClose.push(copy);
        dup2.push([copy, i]);
        return void mine.push(null);
      }
      const [ours, theirs] = socketPair();
      mine.push(ours);
      toClose.push(theirs);
      // an end numbered as a descriptor the child gets could be overwritten by another's
      // dup2, or dup2'ed onto itself (which keeps close-on-exec): such ends move above them
      const end = theirs < fds.length ? dupAbove(theirs, fds.length) : theirs;
      if (end !== theirs) toClose.push(end);
      dup2.push([end, i]);
    });
    const env = Object.entries(options.env).map(([k, v]) => `${k}=${v}`);
    const devNull = fds.flatMap((kind, i) => (kind === 'ignore' ? [i] : []));
    const plan = { dup2, devNull, closeFrom: fds.length, cwd: options.cwd, setsid: options.detached };
    pid = posixSpawn(file, argv, env, plan);
    ended = new Promise<number>((resolve) => running.set(pid, resolve));
    if (processStart.hasSubscribers) processStart.publish({ file, pid });
  } catch (error) {
    mine.forEach((fd) => fd !== null && close(fd));
    throw error;
  } finally {
    toClose.forEach(close);
    unwatchIfIdle(); // only when the spawn failed and nothing else runs
  }
  const pipes = mine.map((fd, i) =>
    fd === null
      ? null
      : new Socket({ fd, readable: fds[i] === 'from-child', writable: fds[i] === 'to-child' }),
  );
  const outputsClosed = pipes.flatMap((socket, i) =>
    socket !== null && fds[i] === 'from-child'
      ? [new Promise((resolve) => socket.once('close', resolve))]
      : [],
  );
  const closed = Promise.all([ended, ...outputsClosed]).then(([status]) => decodeStatus(status));
  return { pid, pipes, closed };
}

/** children started here and not yet reaped, with what to call once they are */
const running = new Map<number, (status: number) => void>();
let keepAlive: NodeJS.Timeout | undefined;

/**
 * Listens for SIGCHLD (before a spawn, so an early exit is not missed) and keeps the event loop
 * alive while a child runs, as a ChildProcess does. The slow timer also reaps, should a
 * signal ever be missed.
 */
function watchChildren(): void {
  if (keepAlive !== undefined) return;
  process.on('SIGCHLD', reap);
  keepAlive = setInterval(reap, 1000);
}

function unwatchIfIdle(): void {
  if (running.size > 0 || keepAlive === undefined) return;
  process.off('SIGCHLD', reap);
  clearInterval(keepAlive);
  keepAlive = undefined;
}

function reap(): void {
  for (const [pid, done] of running) {
    let status: number | null;
    try {
      status = waitNoHang(pid);
    } catch {
      status = -1; // not our child any more (reaped elsewhere): nothing to report
    }
    if (status === null) continue;
    running.delete(pid);
    done(status);
  }
  unwatchIfIdle();
}

const SIGNAL_NAMES = new Map(
  Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]),
);

/** A wait status as child_process reports it: the exit code, or the signal that ended it. */
function decodeStatus(status: number): { code: number | null; signal: NodeJS.Signals | null } {
  if (status === -1) return { code: null, signal: null };
  const signal = status & 0x7f;
  return signal === 0
    ? { code: (status >> 8) & 0xff, signal: null }
    : { code: null, signal: SIGNAL_NAMES.get(signal) ?? null };
}
