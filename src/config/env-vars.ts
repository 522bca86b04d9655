/**
 * Every environment variable airlock itself reads, in one place (so flags and variables
 * cannot drift apart). The guest's environment is built separately, from an allowlist.
 */
export const ENV = {
  /** state directory holding airlock.db (default /var/lib/airlock) */
  home: 'AIRLOCK_HOME',
  /** set by sudo: the invoking user, the default guest user */
  sudoUid: 'SUDO_UID',
  sudoGid: 'SUDO_GID',
} as const;

export const DEFAULT_HOME = '/var/lib/airlock';
export const DEFAULT_PROXY_PORT = 9090;

export function airlockHome(env: NodeJS.ProcessEnv = process.env): string {
  return env[ENV.home] || DEFAULT_HOME;
}
