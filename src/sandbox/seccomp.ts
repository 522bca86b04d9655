import { arch } from 'node:process';

/**
 * The guest's system-call filter: a classic BPF program (the format `bwrap --seccomp FD`
 * loads) that closes the doors a guest could open by uid rather than by path:
 *
 * - the kernel keyrings (`keyctl`, `add_key`, `request_key`): the user keyring of a uid is
 *   shared by every process of that uid on the host, so a guest running as the sudo caller
 *   could read the keys the caller stored there;
 * - `ioctl(TIOCSTI / TIOCLINUX)`: typing into a terminal the guest shares with its caller;
 * - new user namespaces (`clone`/`unshare` with CLONE_NEWUSER; `clone3`, whose flags a
 *   filter cannot read, answers ENOSYS so libc falls back to `clone`), the widest door
 *   into the rest of the kernel for an unprivileged process;
 * - any other ABI than the native one (x32, or 32-bit code on a 64-bit kernel), whose
 *   system-call numbers this filter does not speak.
 *
 * Docker's and Flatpak's default filters deny the same calls for the same reasons.
 */

/** The architectures the filter is written for, with their system-call numbers. */
const ARCHES = {
  x64: {
    audit: 0xc000003e, // AUDIT_ARCH_X86_64
    x32Bit: 0x40000000, // __X32_SYSCALL_BIT: x32 calls share the arch value
    nr: { ioctl: 16, clone: 56, unshare: 272, add_key: 248, request_key: 249, keyctl: 250, clone3: 435 },
  },
  arm64: {
    audit: 0xc00000b7, // AUDIT_ARCH_AARCH64
    x32Bit: undefined,
    nr: { ioctl: 29, clone: 220, unshare: 97, add_key: 217, request_key: 218, keyctl: 219, clone3: 435 },
  },
} as const;

export type SeccompArch = keyof typeof ARCHES;

const TIOCSTI = 0x5412;
const TIOCLINUX = 0x541c;
const CLONE_NEWUSER = 0x10000000;
const EPERM = 1;
const ENOSYS = 38;

// classic BPF opcodes (linux/filter.h) and seccomp return values (linux/seccomp.h)
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const JSET_K = 0x45;
const RET_K = 0x06;
const RET_ALLOW = 0x7fff0000;
const RET_KILL_PROCESS = 0x80000000;
const retErrno = (errno: number) => 0x00050000 | errno;

// offsets in struct seccomp_data: nr, arch, then args[i] as u64 (low word first: little-endian)
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
const argLow = (i: number) => 16 + 8 * i;

interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

const ld = (offset: number): Insn => ({ code: LD_W_ABS, jt: 0, jf: 0, k: offset });
const ret = (value: number): Insn => ({ code: RET_K, jt: 0, jf: 0, k: value });
/** jump over `skip` instructions when the test fails; fall through when it holds */
const unless = (code: number, k: number, skip: number): Insn => ({ code, jt: 0, jf: skip, k });
const when = (code: number, k: number, skip: number): Insn => ({ code, jt: skip, jf: 0, k });

/** Whether this machine's architecture has a filter (else guests cannot start). */
export function seccompSupported(a: string = arch): a is SeccompArch {
  return a in ARCHES;
}

/** The filter as instructions, for the architecture given. */
export function guestFilter(a: SeccompArch): Insn[] {
  const { audit, x32Bit, nr } = ARCHES[a];
  const deny = ret(retErrno(EPERM));
  const allow = ret(RET_ALLOW);
  const p: Insn[] = [ld(OFFSET_ARCH), when(JEQ_K, audit, 1), ret(RET_KILL_PROCESS), ld(OFFSET_NR)];
  if (x32Bit !== undefined) p.push(unless(JGE_K, x32Bit, 1), deny);
  for (const call of [nr.keyctl, nr.add_key, nr.request_key]) p.push(unless(JEQ_K, call, 1), deny);
  p.push(unless(JEQ_K, nr.clone3, 1), ret(retErrno(ENOSYS)));
  // clone(flags, …) and unshare(flags): refuse CLONE_NEWUSER, allow the rest
  for (const call of [nr.clone, nr.unshare]) {
    p.push(unless(JEQ_K, call, 4), ld(argLow(0)), unless(JSET_K, CLONE_NEWUSER, 1), deny, allow);
  }
  // ioctl(fd, request, …): the request is an int, so only its low word counts
  p.push(unless(JEQ_K, nr.ioctl, 4), ld(argLow(1)), when(JEQ_K, TIOCSTI, 1), unless(JEQ_K, TIOCLINUX, 1));
  p.push(deny, allow);
  return p;
}

/** The filter in the binary layout of `struct sock_filter[]` that bwrap reads from a file descriptor. */
export function guestFilterBytes(a: SeccompArch): Buffer {
  const program = guestFilter(a);
  const out = Buffer.alloc(program.length * 8);
  program.forEach((insn, i) => {
    out.writeUInt16LE(insn.code, i * 8);
    out.writeUInt8(insn.jt, i * 8 + 2);
    out.writeUInt8(insn.jf, i * 8 + 3);
    out.writeUInt32LE(insn.k >>> 0, i * 8 + 4);
  });
  return out;
}
