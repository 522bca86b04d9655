import { createRequire } from 'node:module';
import type * as KoffiModule from 'koffi';
import type { LibraryHandle } from 'koffi';
import { AirlockError, type ErrorCode } from '../errors.js';

/**
 * The few C library calls airlock makes itself, through koffi's FFI (prebuilt, nothing to
 * compile), so that building a sandbox's network needs no `ip` or `nft` process: each of those
 * costs this process a fork (4–20 ms with the event loop blocked) and the child's own start.
 * Loaded at the first call. Every call here is synchronous and short; a failure throws
 * AIRLOCK_ERR_NET_SETUP naming the call, its argument and errno's name.
 */

type Koffi = typeof KoffiModule;
/** A C function as koffi calls it. */
export type CFunction = (...args: unknown[]) => unknown;

let koffi: Koffi | undefined;
let libc: Record<string, CFunction> | undefined;

const SIGNATURES = {
  open: 'int open(const char *path, int flags, int mode)',
  close: 'int close(int fd)',
  setns: 'int setns(int fd, int nstype)',
  unshare: 'int unshare(int flags)',
  mount:
    'int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)',
  umount2: 'int umount2(const char *target, int flags)',
  socket: 'int socket(int domain, int type, int protocol)',
  connect: 'int connect(int fd, const void *addr, uint32_t len)',
  send: 'intptr_t send(int fd, const void *buf, size_t len, int flags)',
  recv: 'intptr_t recv(int fd, _Out_ void *buf, size_t len, int flags)',
  strerrorname_np: 'const char *strerrorname_np(int errnum)',
  pthread_sigmask: 'int pthread_sigmask(int how, const void *set, void *oldset)',
  socketpair: 'int socketpair(int domain, int type, int protocol, _Out_ int *sv)',
  fcntl: 'int fcntl(int fd, int cmd, ...)',
  waitpid: 'int waitpid(int pid, _Out_ int *status, int options)',
  posix_spawn:
    'int posix_spawn(_Out_ int *pid, const char *path, const void *actions, const void *attr, const char **argv, const char **envp)',
  posix_spawn_file_actions_init: 'int posix_spawn_file_actions_init(void *actions)',
  posix_spawn_file_actions_destroy: 'int posix_spawn_file_actions_destroy(void *actions)',
  posix_spawn_file_actions_adddup2: 'int posix_spawn_file_actions_adddup2(void *actions, int fd, int newfd)',
  posix_spawn_file_actions_addopen:
    'int posix_spawn_file_actions_addopen(void *actions, int fd, const char *path, int oflag, int mode)',
  posix_spawn_file_actions_addchdir_np:
    'int posix_spawn_file_actions_addchdir_np(void *actions, const char *path)',
  posix_spawn_file_actions_addclosefrom_np:
    'int posix_spawn_file_actions_addclosefrom_np(void *actions, int from)',
  posix_spawnattr_init: 'int posix_spawnattr_init(void *attr)',
  posix_spawnattr_destroy: 'int posix_spawnattr_destroy(void *attr)',
  posix_spawnattr_setflags: 'int posix_spawnattr_setflags(void *attr, short flags)',
  posix_spawnattr_setsigdefault: 'int posix_spawnattr_setsigdefault(void *attr, const void *set)',
  posix_spawnattr_setsigmask: 'int posix_spawnattr_setsigmask(void *attr, const void *set)',
} as const;

export function ffi(): Koffi {
  koffi ??= loadKoffi();
  return koffi;
}

/** the koffi major version whose API (load, func, errno) this module is written against */
const KOFFI_MAJOR = 3;

/**
 * koffi's prebuilt addon, loaded straight from its platform package: koffi's own entry finds
 * it by reading Node's ELF headers and trying package after package, ~10 ms of every `run`
 * against ~3 ms for the load itself. It only wraps the addon with deprecated aliases, which
 * airlock does not use. Any miss (another platform, a musl system, another layout or major
 * version) falls back to that entry, which reports what is wrong in its own words.
 */
function loadKoffi(): Koffi {
  const require = createRequire(import.meta.url);
  try {
    const { platform, arch } = process;
    const file = require.resolve(`@koromix/koffi-${platform}-${arch}/${platform}_${arch}/koffi.node`);
    const addon = { exports: {} as Koffi };
    process.dlopen(addon, file);
    if (parseInt(addon.exports.version, 10) === KOFFI_MAJOR) return addon.exports;
  } catch {
    // koffi's own entry below
  }
  return require('koffi') as Koffi;
}

/** Loads a shared library by soname, or throws naming it and what provides it. */
export function loadLibrary(soname: string, providedBy: string): LibraryHandle {
  try {
    return ffi().load(soname);
  } catch (cause) {
    throw new AirlockError(
      'AIRLOCK_ERR_NET_SETUP',
      `cannot load ${soname} (${providedBy}): ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

function call(name: keyof typeof SIGNATURES): CFunction {
  if (libc === undefined) {
    const lib = loadLibrary('libc.so.6', 'the C library');
    libc = Object.fromEntries(Object.entries(SIGNATURES).map(([k, sig]) => [k, lib.func(sig) as CFunction]));
  }
  return libc[name]!;
}

/** errno's symbolic name (`EEXIST`), or its number where the C library has no name for it. */
function errnoName(errno: number): string {
  try {
    return (call('strerrorname_np')(errno) as string | null) ?? `errno ${errno}`;
  } catch {
    return `errno ${errno}`; // glibc < 2.32
  }
}

/** Calls `name` and returns its result, throwing with errno's name when it returns -1. */
function checked(name: keyof typeof SIGNATURES, what: string, ...args: unknown[]): number {
  const r = Number(call(name)(...args));
  if (r === -1) throw failure('AIRLOCK_ERR_NET_SETUP', name, what, ffi().errno());
  return r;
}

/** An error naming the call, its argument and errno's name (also as the error's `errno`). */
function failure(code: ErrorCode, name: string, what: string, errno: number): AirlockError {
  const error = new AirlockError(code, `${name}(${what}) failed: ${errnoName(errno)}`);
  (error as AirlockError & { errno: string }).errno = errnoName(errno);
  return error;
}

const SIG_BLOCK = 0;
const SIG_SETMASK = 2;
/** a sigset_t (glibc's: 1024 bits) */
const SIGSET_BYTES = 128;
/** every signal (the kernel ignores SIGKILL and SIGSTOP in a mask) */
const ALL_SIGNALS = Buffer.alloc(SIGSET_BYTES, 0xff);

/**
 * Runs `fn` with every signal held back from this thread, then lets the held ones in. A
 * signal handled while the kernel's answer is awaited (the event loop's SIGCHLD for a guest
 * that ended, a terminal's SIGWINCH) interrupts the wait, and libnftables does not retry it:
 * its select() fails with EINTR after the kernel took the batch, and the call reports an error.
 */
export function withSignalsHeld<T>(fn: () => T): T {
  const held = Buffer.alloc(SIGSET_BYTES);
  const rc = Number(call('pthread_sigmask')(SIG_BLOCK, ALL_SIGNALS, held));
  if (rc !== 0) throw new AirlockError('AIRLOCK_ERR_NET_SETUP', `pthread_sigmask failed: ${errnoName(rc)}`);
  try {
    return fn();
  } finally {
    call('pthread_sigmask')(SIG_SETMASK, held, null);
  }
}

/** errno's name of an error thrown here (`ENOENT`), undefined for any other error. */
export function errnoOf(e: unknown): string | undefined {
  return (e as { errno?: unknown } | null)?.errno as string | undefined;
}

export const O_RDONLY = 0;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_CLOEXEC = 0o2000000;
export const CLONE_NEWNET = 0x40000000;
export const MS_BIND = 4096;
export const MS_REC = 16384;
export const MS_SHARED = 1 << 20;
export const MNT_DETACH = 2;
export const AF_NETLINK = 16;
export const SOCK_RAW = 3;
export const SOCK_CLOEXEC = 0o2000000;

export const open = (path: string, flags: number, mode = 0) => checked('open', path, path, flags, mode);
export const close = (fd: number) => void call('close')(fd);
export const setns = (fd: number, nstype: number, what: string) => void checked('setns', what, fd, nstype);
export const unshare = (flags: number) => void checked('unshare', 'CLONE_NEWNET', flags);
export const mount = (source: string, target: string, fstype: string, flags: number, what: string) =>
  void checked('mount', what, source, target, fstype, flags, null);
export const umount2 = (target: string, flags: number) => void checked('umount2', target, target, flags);
export const socket = (domain: number, type: number, protocol: number) =>
  checked('socket', 'AF_NETLINK', domain, type, protocol);
export const connect = (fd: number, addr: Buffer) =>
  void checked('connect', 'netlink', fd, addr, addr.length);
export const send = (fd: number, buf: Buffer) => checked('send', 'netlink', fd, buf, buf.length, 0);
export const recv = (fd: number, buf: Buffer) => checked('recv', 'netlink', fd, buf, buf.length, 0);

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const F_DUPFD_CLOEXEC = 1030;
const F_GETFL = 3;
const F_SETFL = 4;
const O_NONBLOCK = 0o4000;
const WNOHANG = 1;
const O_RDWR = 2;
// posix_spawnattr_setflags (glibc's values)
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
// room for glibc's posix_spawn_file_actions_t (80 bytes) and posix_spawnattr_t (336)
const SPAWN_ACTIONS_BYTES = 512;
const SPAWN_ATTR_BYTES = 1024;

/** A connected pair of Unix stream sockets (close-on-exec), as Node makes for a child's stdio. */
export function socketPair(): [number, number] {
  const fds = [0, 0];
  if (Number(call('socketpair')(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds)) === -1) {
    throw failure('AIRLOCK_ERR_GUEST_START', 'socketpair', 'AF_UNIX', ffi().errno());
  }
  return [fds[0]!, fds[1]!];
}

/** A close-on-exec copy of `fd` numbered `min` or above. */
export function dupAbove(fd: number, min: number): number {
  const r = Number(call('fcntl')(fd, F_DUPFD_CLOEXEC, 'int', min));
  if (r === -1) throw failure('AIRLOCK_ERR_GUEST_START', 'fcntl', 'F_DUPFD_CLOEXEC', ffi().errno());
  return r;
}

/**
 * Makes `fd`'s open file blocking again. The flag belongs to the open file, which a dup shares:
 * what Node made non-blocking for itself (a pipe on its stdout) would be non-blocking for a
 * child too, whose writes then fail with EAGAIN once the pipe is full.
 */
export function makeBlocking(fd: number): void {
  const flags = Number(call('fcntl')(fd, F_GETFL));
  if (flags === -1) throw failure('AIRLOCK_ERR_GUEST_START', 'fcntl', 'F_GETFL', ffi().errno());
  if ((flags & O_NONBLOCK) === 0) return;
  if (Number(call('fcntl')(fd, F_SETFL, 'int', flags & ~O_NONBLOCK)) === -1) {
    throw failure('AIRLOCK_ERR_GUEST_START', 'fcntl', 'F_SETFL', ffi().errno());
  }
}

/** The wait status of child `pid` once it has ended (and reaps it); null while it runs. */
export function waitNoHang(pid: number): number | null {
  const status = [0];
  const r = Number(call('waitpid')(pid, status, WNOHANG));
  if (r === -1) throw failure('AIRLOCK_ERR_GUEST_START', 'waitpid', String(pid), ffi().errno());
  return r === 0 ? null : status[0]!;
}

/** What a posix_spawn'd child gets besides its program and arguments. */
export interface SpawnPlan {
  /** `[parent's descriptor, child's descriptor]`: the child's is a copy of the parent's */
  dup2: ReadonlyArray<readonly [number, number]>;
  /** child descriptors opened on /dev/null */
  devNull: readonly number[];
  /** the child's descriptors from this one up are closed (after the dup2s) */
  closeFrom: number;
  cwd: string;
  /** a session of its own (setsid), as child_process's `detached` */
  setsid: boolean;
}

/**
 * posix_spawn: glibc's clones with CLONE_VM | CLONE_VFORK, so nothing of this process is
 * copied and this thread waits only until the child has called exec. The child starts with
 * every signal at its default action and none blocked, as child_process gives it (Node
 * ignores SIGPIPE, which an exec would otherwise pass on). Returns the child's pid; an exec
 * that failed throws here with errno's name.
 */
export function posixSpawn(
  file: string,
  argv: readonly string[],
  env: readonly string[],
  plan: SpawnPlan,
): number {
  const actions = Buffer.alloc(SPAWN_ACTIONS_BYTES);
  const attr = Buffer.alloc(SPAWN_ATTR_BYTES);
  const step = (name: keyof typeof SIGNATURES, ...args: unknown[]) => {
    const rc = Number(call(name)(...args));
    if (rc !== 0) throw failure('AIRLOCK_ERR_GUEST_START', name, file, rc);
  };
  step('posix_spawn_file_actions_init', actions);
  try {
    step('posix_spawnattr_init', attr);
    try {
      for (const [from, to] of plan.dup2) step('posix_spawn_file_actions_adddup2', actions, from, to);
      for (const fd of plan.devNull)
        step('posix_spawn_file_actions_addopen', actions, fd, '/dev/null', O_RDWR, 0);
      // nothing else: a descriptor this process inherited without close-on-exec (its caller's
      // socket or file) would otherwise pass through bubblewrap into the guest
      step('posix_spawn_file_actions_addclosefrom_np', actions, plan.closeFrom);
      step('posix_spawn_file_actions_addchdir_np', actions, plan.cwd);
      step('posix_spawnattr_setsigdefault', attr, ALL_SIGNALS);
      step('posix_spawnattr_setsigmask', attr, Buffer.alloc(SIGSET_BYTES));
      const flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (plan.setsid ? POSIX_SPAWN_SETSID : 0);
      step('posix_spawnattr_setflags', attr, flags);
      const pid = [0];
      step('posix_spawn', pid, file, actions, attr, [...argv, null], [...env, null]);
      return pid[0]!;
    } finally {
      call('posix_spawnattr_destroy')(attr);
    }
  } finally {
    call('posix_spawn_file_actions_destroy')(actions);
  }
}
