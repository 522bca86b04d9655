import { AirlockError } from '../errors.js';

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
  /** proxy log level: one of LOG_LEVELS (default warn) */
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

/** The proxy log levels AIRLOCK_LOG_LEVEL may name. */
export const LOG_LEVELS = ['silent', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

/** The proxy log level from AIRLOCK_LOG_LEVEL (unset or empty = warn); any other value is refused. */
export function logLevel(env: NodeJS.ProcessEnv = process.env): (typeof LOG_LEVELS)[number] {
  const value = env[ENV.logLevel];
  if (value === undefined || value === '') return 'warn';
  const level = LOG_LEVELS.find((l) => l === value);
  if (level === undefined) {
    throw new AirlockError(
      'AIRLOCK_ERR_CONFIG',
      `${ENV.logLevel}=${JSON.stringify(value.slice(0, 40))} is not a log level`,
      {
        hint: `use one of: ${LOG_LEVELS.join(', ')}`,
      },
    );
  }
  return level;
}
