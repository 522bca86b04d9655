/**
 * The one error registry. Every error airlock raises on purpose is an `AirlockError` with a
 * stable `code`; each code is documented in docs/errors.md (a test keeps the two in sync).
 * A code that answers a guest's request carries its HTTP status here, and its guest-visible
 * `type` is derived from the code (`errorType`), so no call site picks either.
 * Messages name the bad value but never a secret.
 */

/** What a code means, and the HTTP status it answers a guest with (omitted = not an HTTP error). */
export interface ErrorSpec {
  meaning: string;
  status?: number;
}

export const ERRORS = {
  AIRLOCK_ERR_USAGE: {
    meaning: 'bad command-line usage: unknown flag, missing value, unknown command, a bad sandbox name',
  },
  AIRLOCK_ERR_NOT_ROOT: {
    meaning:
      'airlock needs root: to build sandboxes (CAP_NET_ADMIN and CAP_SYS_ADMIN), and to open the state directory and its audit log',
  },
  AIRLOCK_ERR_MISSING_TOOL: {
    meaning: 'a system program airlock drives (nft, ip, bwrap, setpriv, sysctl) is missing',
  },
  AIRLOCK_ERR_CONFIG: {
    meaning:
      'the configuration file, a flag value or AIRLOCK_LOG_LEVEL is invalid (every problem of a file at once)',
  },
  AIRLOCK_ERR_STATE: {
    meaning:
      'the state directory or database cannot be used, or a user other than root could change it or a directory above it',
  },
  AIRLOCK_ERR_POOL_INVALID: { meaning: 'the address pool is not a usable IPv4 CIDR' },
  AIRLOCK_ERR_POOL_EXHAUSTED: { meaning: 'every /30 of the address pool is in use' },
  AIRLOCK_ERR_HOST_LOCK: {
    meaning: 'another airlock process held the host-wide allocation lock too long',
  },
  AIRLOCK_ERR_NET_SETUP: { meaning: 'creating the namespace, veth pair or addresses failed' },
  AIRLOCK_ERR_NFT_APPLY: { meaning: 'loading the nftables ruleset or adding set elements failed' },
  AIRLOCK_ERR_NFT_VERIFY: { meaning: 'the enforcement rules were not found in place after applying them' },
  AIRLOCK_ERR_USER_UNKNOWN: { meaning: 'the user given with --user does not exist' },
  AIRLOCK_ERR_WORKDIR: {
    meaning:
      'the working directory does not exist, is not a directory, or is a place a guest never gets (/, /tmp, a home, the state directory)',
  },
  AIRLOCK_ERR_SANDBOX_CLOSED: { meaning: 'the sandbox was already closed' },
  AIRLOCK_ERR_NAME_TAKEN: { meaning: 'a live sandbox of this state directory already has that name' },
  AIRLOCK_ERR_SANDBOX_UNKNOWN: { meaning: 'no live sandbox has that name or id' },
  AIRLOCK_ERR_SANDBOX_BUSY: { meaning: 'the sandbox still runs commands, and removing it was not forced' },
  AIRLOCK_ERR_CGROUP: {
    meaning: "the sandbox's cgroup (its memory, process and CPU limits) could not be made, joined or removed",
  },
  AIRLOCK_ERR_GUEST_START: { meaning: 'the guest command could not be started inside its sandbox' },
  AIRLOCK_ERR_PROFILE: {
    meaning: 'an unknown network profile was chosen, or deny-all was combined with another',
  },
  AIRLOCK_ERR_CREDENTIAL_UNKNOWN: { meaning: 'no catalogue service takes the credential variable given' },
  AIRLOCK_ERR_CREDENTIAL_NOT_ALLOWED: {
    meaning: "a granted credential's upstream host is not allowed by the chosen profiles",
  },
  AIRLOCK_ERR_SECRET_SOURCE: {
    meaning: 'a credential could not be read from its source, or was given as a literal',
  },
  AIRLOCK_ERR_AUDIT_QUERY: {
    meaning: 'an audit query (--query or --sql) is unknown, fails, or tries to write',
  },
  AIRLOCK_ERR_PROXY_LISTEN: { meaning: 'the proxy could not listen on the requested address' },
  AIRLOCK_ERR_DAEMON_UNREACHABLE: {
    meaning: 'no airlock daemon answers on the socket, or this user may not use it',
  },
  AIRLOCK_ERR_DAEMON_RUNNING: { meaning: 'another airlock daemon already answers on the socket' },
  AIRLOCK_ERR_DAEMON_PROTOCOL: {
    meaning: 'the daemon or its client sent something the API does not define',
  },
  AIRLOCK_ERR_UNSAFE_ENV: {
    meaning:
      "a guest variable the root-run tools that start a guest would obey (LD_*, glibc's unsafe list, a locale or zone naming a file)",
  },
  AIRLOCK_ERR_ENV_RESERVED: {
    meaning:
      "a caller's guest variable (`--env`) is one airlock sets: a granted credential's, a base URL, a proxy variable, AIRLOCK_*",
  },
  AIRLOCK_ERR_FORBIDDEN: {
    meaning:
      "a daemon API caller asked for something the daemon's config does not grant: a secret source, a mount, a working directory, another guest user",
  },
  AIRLOCK_ERR_TTY: {
    meaning: 'a terminal (`exec -t`) was asked for, and the guest has no `script` to make one',
  },

  // answers to a guest's request (the `type` in the JSON body is errorType(code))
  AIRLOCK_ERR_BAD_REQUEST: {
    status: 400,
    meaning: 'the proxy refused a malformed request: framing, headers, target, path, method or host',
  },
  AIRLOCK_ERR_CLIENT_TIMEOUT: {
    status: 408,
    meaning: 'the guest did not send its request headers (or whole request) in time',
  },
  AIRLOCK_ERR_HEADERS_TOO_LARGE: { status: 431, meaning: 'the request header block is larger than 16 KiB' },
  AIRLOCK_ERR_UNKNOWN_SERVICE: {
    status: 404,
    meaning: 'the request named no route or service this sandbox knows (`/proxy/<service>/…`)',
  },
  AIRLOCK_ERR_POLICY_DENIED: {
    status: 403,
    meaning:
      'the network profiles or endpoint rules refuse the request (service, method, path, host or port)',
  },
  AIRLOCK_ERR_USE_BASE_URL: {
    status: 403,
    meaning:
      'a credential host was asked for through the forward proxy where its key cannot be injected (plain HTTP, a port other than 443)',
  },
  AIRLOCK_ERR_FORBIDDEN_ADDRESS: {
    status: 403,
    meaning:
      'the forward proxy never connects there: this host, the sandbox pool, loopback, private, link-local and other internal addresses',
  },
  AIRLOCK_ERR_WRONG_CREDENTIAL: {
    status: 403,
    meaning: "the request carried a credential other than this sandbox's placeholder",
  },
  AIRLOCK_ERR_RATE_LIMITED: {
    status: 429,
    meaning: 'the sandbox sent more requests, or more refused requests, per second than its limit',
  },
  AIRLOCK_ERR_TOO_MANY_CONNECTIONS: {
    status: 429,
    meaning:
      'the sandbox opened a connection to its proxy while it held as many as it may (limits.connections)',
  },
  AIRLOCK_ERR_BUDGET_EXHAUSTED: {
    status: 429,
    meaning:
      "the sandbox's token, cost or request budget (or an endpoint rule's rate) cannot cover the call, or a stream ran past it and was cut",
  },
  AIRLOCK_ERR_AUDIT_WRITE: {
    status: 503,
    meaning: 'the audit row could not be committed, so the request was not forwarded',
  },
  AIRLOCK_ERR_UPSTREAM: {
    status: 502,
    meaning: 'the upstream could not be reached or answered with something unusable',
  },
  AIRLOCK_ERR_UPSTREAM_TLS: { status: 502, meaning: "the upstream's TLS certificate could not be verified" },
  AIRLOCK_ERR_UPSTREAM_TIMEOUT: { status: 504, meaning: 'the upstream did not answer in time' },
  AIRLOCK_ERR_INTERNAL: { status: 500, meaning: 'a bug in airlock; the request was not forwarded' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** The HTTP status a code answers a guest with (undefined = not an HTTP error). */
export function errorStatus(code: ErrorCode): number | undefined {
  const spec: ErrorSpec = ERRORS[code];
  return spec.status;
}

/** `AIRLOCK_ERR_POLICY_DENIED` → `airlock_policy_denied`: the `type` guests see in error bodies. */
export function errorType(code: ErrorCode): string {
  return code.replace(/^AIRLOCK_ERR_/, 'airlock_').toLowerCase();
}

export interface AirlockErrorOptions {
  /** the underlying error */
  cause?: unknown;
  /** a one-line hint on how to fix it, printed after the message */
  hint?: string;
}

/**
 * Marks every AirlockError, whichever copy of this module made it: the bundled executable's
 * entry and each command's bundle carry a copy of their own (scripts/bundle.mjs).
 */
const BRAND = Symbol.for('airlock.AirlockError');

export class AirlockError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: AirlockErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AirlockError';
    Object.defineProperty(this, BRAND, { value: true });
    this.code = code;
    this.hint = options.hint;
  }

  /** the HTTP status from the registry (undefined = not an HTTP error) */
  get status(): number | undefined {
    return errorStatus(this.code);
  }
}

export function isAirlockError(value: unknown): value is AirlockError {
  return value instanceof Error && (value as unknown as Record<symbol, unknown>)[BRAND] === true;
}
