/**
 * Every environment variable airlock itself reads, in one place (so flags and variables
 * cannot drift apart). The guest's environment is built separately, from an allowlist.
 */
export const ENV = {
  /** state directory holding airlock.db (default /var/lib/airlock) */
  home: 'AIRLOCK_HOME',
  /** config file used when no --config is given (default /etc/airlock/config.json, if present) */
  config: 'AIRLOCK_CONFIG',
  /** set by sudo: the invoking user, the default guest user */
  sudoUid: 'SUDO_UID',
  sudoGid: 'SUDO_GID',
  /** proxy log level: fatal, error, warn (default), info, debug */
  logLevel: 'AIRLOCK_LOG_LEVEL',
  /** the daemon's unix socket, for `airlock daemon` and its clients (default /run/airlock/airlock.sock) */
  socket: 'AIRLOCK_SOCKET',
} as const;

export const DEFAULT_HOME = '/var/lib/airlock';
export const DEFAULT_PROXY_PORT = 9090;
/** read when it exists and neither --config nor AIRLOCK_CONFIG names a file */
export const DEFAULT_CONFIG_PATH = '/etc/airlock/config.json';

export function airlockHome(env: NodeJS.ProcessEnv = process.env): string {
  return env[ENV.home] || DEFAULT_HOME;
}
