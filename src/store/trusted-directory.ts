import { lstatSync, mkdirSync, realpathSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AirlockError } from '../errors.js';

export interface TrustedDirectoryOptions {
  /** what the directory is, for messages, e.g. `state directory` */
  label: string;
  /** the other way out, appended to the hint, e.g. `or choose another AIRLOCK_HOME` (omitted = none) */
  alternative?: string;
  /** create it (mode 0700, with any missing parents) when it does not exist */
  create: boolean;
}

/**
 * Makes sure a directory that holds root's state can be changed by root alone: it and every
 * directory above it must be owned by root (or by this process's effective uid, when airlock
 * runs unprivileged, e.g. for `airlock audit`) and not writable by group or others. A parent
 * that is world-writable with the sticky bit (like /tmp) is accepted: others cannot rename or
 * delete a root-owned entry in it. Both the path as given (so a symlink that someone else owns
 * is refused) and its real path are checked.
 */
export function ensureTrustedDirectory(dir: string, options: TrustedDirectoryOptions): void {
  const path = resolve(dir);
  // what exists is checked before anything is made beneath it
  checkChain(path, path, options, true);
  if (options.create) {
    try {
      mkdirSync(path, { recursive: true, mode: 0o700 });
    } catch (cause) {
      throw new AirlockError(
        'AIRLOCK_ERR_STATE',
        `cannot create ${options.label} ${path}: ${String(cause)}`,
        {
          cause,
          hint: options.alternative === undefined ? 'run as root' : `run as root, ${options.alternative}`,
        },
      );
    }
  }
  checkChain(path, path, options, false);
  checkChain(path, realpathSync(path), options, false);
}

/** The set of owners that may hold a component of the path. */
function trustedOwners(): Set<number> {
  return new Set([0, process.geteuid?.() ?? 0]);
}

/** Checks `/`, then each component of `path` down to the directory itself. */
function checkChain(
  dir: string,
  path: string,
  options: TrustedDirectoryOptions,
  mayBeMissing: boolean,
): void {
  const chain: string[] = [];
  for (let p = path; ; p = dirname(p)) {
    chain.unshift(p);
    if (p === dirname(p)) break;
  }
  const owners = trustedOwners();
  for (const component of chain) {
    let st: Stats;
    try {
      st = lstatSync(component);
    } catch (cause) {
      if (mayBeMissing && (cause as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new AirlockError('AIRLOCK_ERR_STATE', `cannot use ${options.label} ${dir}: ${String(cause)}`, {
        cause,
      });
    }
    const isTarget = component === path;
    const problem = problemOf(st, isTarget, owners);
    if (problem !== null) throw refusal(dir, component, st, problem, isTarget, options);
  }
}

function problemOf(st: Stats, isTarget: boolean, owners: Set<number>): string | null {
  if (st.isSymbolicLink()) return owners.has(st.uid) ? null : 'is a symlink owned by another user';
  if (!st.isDirectory()) return 'is not a directory';
  if (!owners.has(st.uid)) return 'is owned by another user';
  const writableByOthers = (st.mode & 0o022) !== 0;
  const sticky = (st.mode & 0o1000) !== 0;
  if (writableByOthers && (isTarget || !sticky)) return 'is writable by group or others';
  return null;
}

function refusal(
  dir: string,
  component: string,
  st: Stats,
  problem: string,
  isTarget: boolean,
  options: TrustedDirectoryOptions,
): AirlockError {
  const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
  const q = shellQuote(component);
  const fix = st.isSymbolicLink()
    ? `use a path without the symlink ${q}`
    : !st.isDirectory()
      ? `give a directory instead of ${q}`
      : `sudo chown root:root ${q} && sudo chmod ${isTarget ? '0700' : 'go-w'} ${q}`;
  return new AirlockError(
    'AIRLOCK_ERR_STATE',
    `refusing ${options.label} ${dir}: ${component} ${problem} (owner uid ${st.uid}, mode ${mode}); ` +
      `the ${options.label} and every directory above it must be root's alone to change`,
    { hint: options.alternative === undefined ? fix : `${fix}, ${options.alternative}` },
  );
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
