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

/**
 * Variables the dynamic loader or glibc obey (glibc's list of "unsecure" variables, which it
 * ignores for setuid programs): the guest's environment is handed to the root-run tools that
 * build the guest, so a caller must not set them. Any `LD_` variable is refused as well.
 */
const LOADER_VARIABLES = new Set([
  'GCONV_PATH',
  'GETCONF_DIR',
  'GLIBC_TUNABLES',
  'HOSTALIASES',
  'LOCALDOMAIN',
  'LOCPATH',
  'MALLOC_ARENA_MAX',
  'MALLOC_ARENA_TEST',
  'MALLOC_CHECK_',
  'MALLOC_PERTURB_',
  'MALLOC_TRACE',
  'NIS_PATH',
  'NLSPATH',
  'RESOLV_HOST_CONF',
  'RES_OPTIONS',
  'TMPDIR',
  'TZDIR',
]);

/**
 * Locale and time zone variables whose value glibc reads as a file path (a locale name with
 * a `/`, `TZ=/path` or `TZ=:path`, or one that climbs out of the zone folder).
 */
function pathLike(name: string, value: string): boolean {
  if (name === 'LANG' || name === 'LANGUAGE' || name.startsWith('LC_')) return value.includes('/');
  if (name === 'TZ') return value.startsWith('/') || value.startsWith(':') || value.includes('..');
  return false;
}

/**
 * Refuses guest variables that the root-run tools starting a guest (ip, bwrap, setpriv, all
 * before the drop to the guest user) would obey: a library preload is code run as root.
 * Checked for every caller (CLI, library, daemon); the guest may still set them itself.
 */
export function assertRootSafeEnv(
  env: Readonly<Record<string, string>>,
  code: 'AIRLOCK_ERR_UNSAFE_ENV' | 'AIRLOCK_ERR_FORBIDDEN' = 'AIRLOCK_ERR_UNSAFE_ENV',
): void {
  for (const [name, value] of Object.entries(env)) {
    if (pathLike(name, value)) {
      throw new AirlockError(
        code,
        `env: ${name} names a file: glibc in the root-run tools that start a guest would read it`,
        {
          hint: 'use a plain locale or zone name (e.g. C.UTF-8, Europe/Berlin), or set it inside the command',
        },
      );
    }
    if (name.startsWith('LD_') || LOADER_VARIABLES.has(name)) {
      throw new AirlockError(
        code,
        `env: ${name} is refused: the dynamic loader obeys it in the root-run tools that start a guest`,
        { hint: 'set it inside the command instead, e.g. sh -c "LD_PRELOAD=… exec cmd"' },
      );
    }
  }
}

/** Where every guest finds the system CAs plus its sandbox's CA (a read-only file of its view). */
export const TRUST_BUNDLE_PATH = '/run/airlock/ca-bundle.pem';
/** The sandbox's CA certificate alone, for variables that add to a tool's built-in roots. */
export const SANDBOX_CA_PATH = '/run/airlock/sandbox-ca.pem';

/**
 * The trust variables the common tools read, so TLS that airlock intercepts verifies (see
 * docs/sandbox.md, "Trust"): each names a bundle that replaces the tool's default roots,
 * except NODE_EXTRA_CA_CERTS, which adds to Node's own. A variable the caller sets itself
 * (`--env`, e.g. a private index's CA) is left to the caller; and when the caller sets
 * PIP_CERT, REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE stay unset too, because pip's requests lets
 * them override its own `--cert`.
 */
export function trustVariables(caller: Readonly<Record<string, string>> = {}): Record<string, string> {
  const bundle = TRUST_BUNDLE_PATH;
  const all: Record<string, string> = {
    SSL_CERT_FILE: bundle, // OpenSSL's default paths: Python ssl/httpx, Ruby, PHP, Go (Linux), uv, Rust openssl
    CURL_CA_BUNDLE: bundle, // curl (and Python requests as a fallback)
    REQUESTS_CA_BUNDLE: bundle, // Python requests: pip's vendored copy, huggingface_hub before httpx
    GIT_SSL_CAINFO: bundle, // git over HTTPS
    PIP_CERT: bundle, // pip
    AWS_CA_BUNDLE: bundle, // AWS CLI and boto3
    CARGO_HTTP_CAINFO: bundle, // cargo
    NPM_CONFIG_CAFILE: bundle, // npm
    DENO_CERT: bundle, // Deno
    NODE_EXTRA_CA_CERTS: SANDBOX_CA_PATH, // Node and Bun: added to the built-in roots
  };
  const left = new Set(Object.keys(caller));
  if (left.has('PIP_CERT')) for (const name of ['REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE']) left.add(name);
  return Object.fromEntries(Object.entries(all).filter(([name]) => !left.has(name)));
}
