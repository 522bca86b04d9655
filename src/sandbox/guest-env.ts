import { statSync } from 'node:fs';
import { AirlockError } from '../errors.js';

/** The only variables of the invoking environment a guest may inherit. */
export const INHERITED_VARIABLES = ['PATH', 'LANG', 'TERM', 'TZ'] as const;
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses `--env K=V` values, naming the bad one on error. */
export function parseEnvAssignments(assignments: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of assignments) {
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    if (eq < 0 || !NAME.test(name)) {
      throw new AirlockError(
        'AIRLOCK_ERR_USAGE',
        `--env ${name}: expected NAME=VALUE with NAME made of [A-Za-z0-9_]`,
      );
    }
    out[name] = a.slice(eq + 1);
  }
  return out;
}

/**
 * A guest's whole environment: the allowlisted invoking variables, HOME, then the sandbox's
 * own variables (placeholders, base URLs), then the caller's `--env` values. Nothing else
 * of `invoking` is ever copied.
 */
export function buildGuestEnv(
  invoking: NodeJS.ProcessEnv,
  home: string,
  sandboxVars: Record<string, string>,
  extra: Record<string, string>,
): Record<string, string> {
  const env: Record<string, string> = { PATH: DEFAULT_PATH };
  for (const name of INHERITED_VARIABLES) {
    const value = invoking[name];
    if (value !== undefined && value !== '') env[name] = value;
  }
  env.PATH = searchablePath(env.PATH ?? DEFAULT_PATH);
  env.HOME = home;
  return { ...env, ...sandboxVars, ...extra };
}

/**
 * Keeps the PATH entries any user may search (every component world-executable), so a guest
 * neither learns root's private folders nor gets EACCES instead of "not found".
 */
export function searchablePath(path: string): string {
  const kept = path.split(':').filter((dir) => dir.startsWith('/') && worldSearchable(dir));
  return kept.length > 0 ? kept.join(':') : DEFAULT_PATH;
}

function worldSearchable(dir: string): boolean {
  let prefix = '';
  for (const part of dir.split('/').filter(Boolean)) {
    prefix += `/${part}`;
    try {
      const st = statSync(prefix);
      if (!st.isDirectory() || (st.mode & 0o001) === 0) return false;
    } catch {
      return false;
    }
  }
  return true;
}
