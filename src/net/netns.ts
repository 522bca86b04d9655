import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { AirlockError } from '../errors.js';
import {
  close,
  CLONE_NEWNET,
  errnoOf,
  mount,
  MNT_DETACH,
  MS_BIND,
  MS_REC,
  MS_SHARED,
  O_CLOEXEC,
  O_CREAT,
  O_EXCL,
  O_RDONLY,
  open,
  setns,
  umount2,
  unshare,
} from './libc.js';

/** Where named network namespaces live (`ip netns` keeps them there too, so both see the same). */
export const NETNS_RUN_DIR = '/run/netns';

/** This thread's own namespace: a namespace is per thread, so the main thread can step out and back. */
const SELF_NETNS = '/proc/thread-self/ns/net';

let home: number | undefined;

/** The main thread's network namespace when airlock started, held open to return to. */
function homeNetns(): number {
  home ??= open(SELF_NETNS, O_RDONLY | O_CLOEXEC);
  return home;
}

/** Runs `fn` with a file descriptor of the namespace `netns` (to hand to the kernel), closed afterwards. */
export function withNetnsFd<T>(netns: string, fn: (fd: number) => T): T {
  const fd = open(join(NETNS_RUN_DIR, netns), O_RDONLY | O_CLOEXEC);
  try {
    return fn(fd);
  } finally {
    close(fd);
  }
}

/**
 * Runs `fn` with this (the main) thread inside the namespace `netns`, and back home before
 * anything else runs: sockets made meanwhile (a netlink socket, libnftables' context) and
 * processes spawned meanwhile stay in `netns`; worker threads never move. Should the way back
 * fail, the process exits at once rather than serve anything from inside a sandbox.
 */
export function inNetns<T>(netns: string, fn: () => T): T {
  const back = homeNetns();
  withNetnsFd(netns, (fd) => setns(fd, CLONE_NEWNET, netns));
  try {
    return fn();
  } finally {
    returnHome(back);
  }
}

function returnHome(back: number): void {
  try {
    setns(back, CLONE_NEWNET, 'home');
  } catch (e) {
    process.stderr.write(`airlock: fatal: cannot return to the host's network namespace: ${String(e)}\n`);
    process.exit(70);
  }
}

/**
 * `/run/netns` as `ip netns add` leaves it: a mount point with shared propagation, so a
 * namespace's bind mount made here shows in every mount namespace (a guest's `bwrap` view,
 * `ip netns exec`'s). Read from /proc/self/mountinfo first: changing a mount's propagation
 * costs ~10 ms, and once per host is enough.
 */
let runDirShared = false;
function shareRunDir(): void {
  if (runDirShared || runDirIsShared()) {
    runDirShared = true;
    return;
  }
  mkdirSync(NETNS_RUN_DIR, { recursive: true, mode: 0o755 });
  try {
    mount('', NETNS_RUN_DIR, 'none', MS_SHARED | MS_REC, NETNS_RUN_DIR);
  } catch (e) {
    if (errnoOf(e) !== 'EINVAL') throw e;
    // not a mount point yet: make it one, then shared
    mount(NETNS_RUN_DIR, NETNS_RUN_DIR, 'none', MS_BIND | MS_REC, NETNS_RUN_DIR);
    mount('', NETNS_RUN_DIR, 'none', MS_SHARED | MS_REC, NETNS_RUN_DIR);
  }
  runDirShared = true;
}

/** Whether the mount on top at /run/netns has shared propagation (mountinfo's optional `shared:N`). */
function runDirIsShared(): boolean {
  let top: string[] | undefined;
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const fields = line.split(' ');
    if (fields[4] === NETNS_RUN_DIR) top = fields.slice(6, fields.indexOf('-'));
  }
  return top?.some((tag) => tag.startsWith('shared:')) ?? false;
}

/**
 * Makes the named, empty network namespace `netns`, as `ip netns add` does but in this process:
 * the main thread unshares a new namespace, bind-mounts it to /run/netns/<name>, and returns
 * home. Throws AIRLOCK_ERR_NET_SETUP (EEXIST) when the name is taken.
 */
export function addNetns(netns: string): void {
  shareRunDir();
  const path = join(NETNS_RUN_DIR, netns);
  close(open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0));
  const back = homeNetns();
  try {
    unshare(CLONE_NEWNET);
    try {
      mount(SELF_NETNS, path, 'none', MS_BIND, `${SELF_NETNS} on ${path}`);
    } finally {
      returnHome(back);
    }
  } catch (e) {
    unlinkSync(path);
    throw e;
  }
}

/**
 * Removes the name of a namespace, as `ip netns delete` does (the kernel takes the namespace
 * once nothing holds it). Idempotent: a name that is already gone counts as removed.
 */
export function deleteNetns(netns: string): void {
  const path = join(NETNS_RUN_DIR, netns);
  try {
    umount2(path, MNT_DETACH);
  } catch (e) {
    if (!['EINVAL', 'ENOENT'].includes(errnoOf(e) ?? '')) throw e; // not mounted: only the file is left
  }
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new AirlockError('AIRLOCK_ERR_NET_SETUP', `removing ${path} failed: ${String(e)}`, { cause: e });
    }
  }
}

/** Whether a namespace of that name exists. */
export function netnsExists(netns: string): boolean {
  return existsSync(join(NETNS_RUN_DIR, netns));
}

/** The names of the host's named namespaces (read directly: no process). */
export function listNetns(): string[] {
  try {
    return readdirSync(NETNS_RUN_DIR);
  } catch {
    return []; // no namespace was ever made
  }
}
