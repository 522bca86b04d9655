import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, normalize, sep } from 'node:path';
import { AirlockError } from '../errors.js';

/** A host folder or file the user chose to show the guest (`--mount SRC:DST[:ro|rw]`). */
export interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
}

/** Whether `path` is `root` or lies below it (both absolute and normalized). */
export function isWithin(path: string, root: string): boolean {
  return root === '/' || path === root || path.startsWith(root + sep);
}

/**
 * Host places a guest must never get whole: binding one of them (or a folder that holds
 * one) read-write would hand the guest the host's shared scratch space and its sockets, a
 * user's home and dotfiles, or airlock's own state.
 */
function protectedPaths(stateHome: string): string[] {
  return [
    '/',
    '/etc',
    '/usr',
    '/boot',
    '/proc',
    '/sys',
    '/dev',
    '/dev/shm',
    '/run',
    '/tmp',
    '/var',
    '/var/tmp',
    '/home',
    '/root',
    stateHome,
    ...userHomes(),
  ];
}

/** The home folders of root and of regular users (uid ≥ 1000) in /etc/passwd. */
function userHomes(): string[] {
  return readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .filter(([, , uid = '']) => uid === '0' || Number(uid) >= 1000)
    .map(([, , , , , home = '']) => home)
    .filter((home) => isAbsolute(home) && home !== '/' && !home.startsWith('/nonexistent'));
}

/** A folder that exists, as its real path (symlinks resolved), or an error naming it. */
function realFolder(path: string, what: string): string {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    throw new AirlockError('AIRLOCK_ERR_WORKDIR', `${what} ${path} does not exist`);
  }
  return real;
}

/**
 * The working directory to bind read-write, checked: it exists, is a folder, and neither is
 * nor holds a protected place (`/`, /tmp, /run, a user's home, the state directory…).
 */
export function checkWorkdir(path: string, stateHome: string): string {
  const real = realFolder(path, 'working directory');
  if (!statSync(real).isDirectory()) {
    throw new AirlockError('AIRLOCK_ERR_WORKDIR', `working directory ${path} is not a directory`);
  }
  const held = protectedPaths(stateHome).find((p) => isWithin(p, real));
  if (held !== undefined) {
    throw new AirlockError(
      'AIRLOCK_ERR_WORKDIR',
      `working directory ${real} ${held === real ? 'is' : 'holds'} ${held}, which a guest never gets read-write`,
      { hint: 'run from a project folder, or pass --workdir DIR (a project folder) or --no-workdir' },
    );
  }
  return real;
}

/** Places a mount may not show at all: the whole host, or airlock's state. */
function unmountable(stateHome: string): string[] {
  return ['/', stateHome, '/run/airlock', '/run/netns', '/etc/netns'];
}

/** Targets bubblewrap builds itself; a bind there would replace the sandbox's own. */
const RESERVED_TARGETS = ['/', '/proc', '/dev'];

const READ_ONLY_TREES = ['/usr', '/etc', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/** Parses `--mount SRC:DST[:ro|rw]` (default rw, as Docker's `-v`), naming the bad value. */
export function parseMount(spec: string, stateHome: string): Mount {
  const bad = (why: string) =>
    new AirlockError('AIRLOCK_ERR_USAGE', `--mount ${spec}: ${why}`, {
      hint: 'use --mount SRC:DST[:ro|rw] with absolute paths, e.g. --mount /data/models:/models:ro',
    });
  const parts = spec.split(':');
  const [source = '', target = '', mode = 'rw'] = parts;
  if (parts.length < 2 || parts.length > 3) throw bad('expected SRC:DST or SRC:DST:ro|rw');
  if (mode !== 'ro' && mode !== 'rw') throw bad(`mode "${mode}" is neither ro nor rw`);
  if (!isAbsolute(source) || !isAbsolute(target)) throw bad('SRC and DST must be absolute paths');
  let real: string;
  try {
    real = realpathSync(source);
  } catch {
    throw bad(`${source} does not exist`);
  }
  const shown = unmountable(stateHome).find((p) => isWithin(p, real));
  if (shown !== undefined)
    throw bad(`${real} ${shown === real ? 'is' : 'holds'} ${shown}, which a guest never sees`);
  const dst = normalize(target);
  const reserved = RESERVED_TARGETS.find((r) => (r === '/' ? dst === '/' : isWithin(dst, r)));
  if (reserved !== undefined) throw bad(`DST ${dst} is inside ${reserved}, which the sandbox builds itself`);
  // the system folders are shown read-only, so a mount point cannot be made inside them
  if (READ_ONLY_TREES.some((r) => isWithin(dst, r)) && !existsSync(dst)) {
    throw bad(
      `DST ${dst} does not exist, and ${dst.split('/').slice(0, 2).join('/')} is read-only in the sandbox`,
    );
  }
  return { source: real, target: dst, readOnly: mode === 'ro' };
}
