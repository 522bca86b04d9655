import { lstatSync, readlinkSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { isWithin, type Mount } from './host-paths.js';

/** What one guest command sees of the file system. */
export interface GuestViewOptions {
  /** the guest's HOME: an empty tmpfs at this path */
  home: string;
  /** host folder bound read-write at the same path and used as the working directory (null = none: cwd is HOME) */
  workdir: string | null;
  /** further binds, in order */
  mounts: readonly Mount[];
  /** host paths masked wherever they would show (airlock's config, secret files, state directory) */
  hidden: readonly string[];
  /** read-only files made from data bubblewrap reads from a file descriptor (no host file behind them; omitted = none) */
  files?: readonly GuestFile[];
}

/** A file of the guest's view whose content airlock writes to bubblewrap's descriptor `fd` (e.g. the trust bundle). */
export interface GuestFile {
  /** absolute path in the view: under a tmpfs (e.g. /run/airlock/…), or over a file the view shows (/etc/resolv.conf) */
  path: string;
  /** the descriptor bubblewrap reads the content from */
  fd: number;
}

/** A resolver on the guest's own loopback, where nothing listens: lookups fail at once. */
export const GUEST_RESOLV_CONF = 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n';

/**
 * Where the view shows GUEST_RESOLV_CONF, over the host's file; none when the host's is not a
 * regular file (systemd-resolved's symbolic link points into the view's empty /run, so the
 * guest finds no resolver there either, and glibc asks its own loopback).
 */
export function guestResolvConfPath(): string | null {
  return lstatSync('/etc/resolv.conf', { throwIfNoEntry: false })?.isFile() ? '/etc/resolv.conf' : null;
}

/** The top-level system folders shown read-only; merged-/usr systems have symlinks for most. */
const SYSTEM_DIRS = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/** Folders under /etc that belong to airlock or to other sandboxes, never shown. */
export const MASKED_ETC = ['/etc/airlock', '/etc/netns'];

/**
 * bubblewrap arguments for the guest's view: the system read-only (/usr, /bin, /lib*, /etc
 * with airlock's own files masked), a fresh /proc and minimal /dev, private tmpfs /tmp,
 * /var/tmp, /run and /dev/shm, an empty HOME, the working directory and the user's mounts —
 * nothing else of the host. No /home, /root, /mnt, /media, /run/netns, host /tmp, and so no
 * host unix socket. Order matters: later mounts land on top of earlier ones.
 */
export function guestViewArgs(options: GuestViewOptions): string[] {
  const args = ['--ro-bind', '/usr', '/usr'];
  for (const dir of SYSTEM_DIRS) {
    const entry = lstatSync(dir, { throwIfNoEntry: false });
    if (entry?.isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir);
    else if (entry?.isDirectory()) args.push('--ro-bind', dir, dir);
  }
  args.push('--ro-bind', '/etc', '/etc');
  args.push('--proc', '/proc', '--dev', '/dev');
  for (const dir of ['/dev/shm', '/tmp', '/var/tmp']) args.push('--perms', '1777', '--tmpfs', dir);
  args.push('--perms', '0755', '--tmpfs', '/run', '--symlink', '../run', '/var/run');
  for (const file of options.files ?? []) {
    args.push('--perms', '0755', '--dir', dirname(file.path));
    args.push('--perms', '0444', '--ro-bind-data', String(file.fd), file.path);
  }
  // bubblewrap cannot chown, and the guest is the view's only user: its HOME is open to it
  args.push('--perms', '0777', '--tmpfs', options.home);
  const shown = ['/usr', '/etc', ...SYSTEM_DIRS];
  if (options.workdir !== null) {
    args.push(...parentOf(options.workdir), '--bind', options.workdir, options.workdir);
    shown.push(options.workdir);
  }
  for (const m of options.mounts) {
    args.push(...parentOf(m.target), m.readOnly ? '--ro-bind' : '--bind', m.source, m.target);
    shown.push(m.source);
  }
  // masks go last so they cover what the binds above brought in
  for (const path of [...MASKED_ETC, ...options.hidden]) {
    const inside = shown.filter((s) => isWithin(path, s));
    if (inside.length === 0) continue;
    const kind = statSync(path, { throwIfNoEntry: false });
    if (!kind) continue;
    for (const root of inside) {
      const target = translate(path, root, options);
      if (kind.isDirectory()) args.push('--tmpfs', target);
      else args.push('--ro-bind', '/dev/null', target);
    }
  }
  args.push('--chdir', options.workdir ?? options.home);
  return args;
}

/**
 * The folders above a bind target, made searchable by everyone: bubblewrap before 0.9 makes
 * them 0700 for binds, which would lock an unprivileged guest out of its own working directory.
 */
function parentOf(target: string): string[] {
  return ['--perms', '0755', '--dir', dirname(target)];
}

/** Where a host path under a shown folder appears inside the view. */
function translate(path: string, root: string, options: GuestViewOptions): string {
  const mount = options.mounts.find((m) => m.source === root);
  return mount ? mount.target + path.slice(root.length) : path;
}
