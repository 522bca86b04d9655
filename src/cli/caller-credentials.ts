import { parseCredFlag, resolveSecretSource } from '../config/secret-source.js';

/**
 * `--cred` flags as a daemon client sends them: `NAME=env:VAR` and `NAME=file:PATH` are read
 * here, by this user, and handed over as values; a bare `NAME` is this user's `$NAME` when set,
 * else a request for the daemon config's credential of that name.
 */
export function callerCredentials(
  flags: readonly string[],
  env: NodeJS.ProcessEnv,
): { credentials: string[]; secrets: Record<string, string> } {
  const credentials: string[] = [];
  const secrets: Record<string, string> = {};
  for (const flag of flags) {
    const { name, source } = parseCredFlag(flag);
    if (!flag.includes('=') && env[name] === undefined) credentials.push(name);
    else secrets[name] = resolveSecretSource(name, source, env).value;
  }
  return { credentials, secrets };
}
