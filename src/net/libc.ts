import { createRequire } from 'node:module';
import type * as KoffiModule from 'koffi';
import type { LibraryHandle } from 'koffi';
import { AirlockError } from '../errors.js';

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
} as const;

export function ffi(): Koffi {
  koffi ??= createRequire(import.meta.url)('koffi') as Koffi;
  return koffi;
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
  if (r === -1) {
    const errno = ffi().errno();
    const error = new AirlockError('AIRLOCK_ERR_NET_SETUP', `${name}(${what}) failed: ${errnoName(errno)}`);
    (error as AirlockError & { errno: string }).errno = errnoName(errno);
    throw error;
  }
  return r;
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
