/**
 * The one error registry. Every error airlock raises on purpose is an `AirlockError` with a
 * stable `code`; each code is documented in docs/errors.md (a test keeps the two in sync).
 * Messages name the bad value but never a secret.
 */

export const ERROR_CODES = {
  AIRLOCK_ERR_USAGE: 'bad command-line usage: unknown flag, missing value, unknown command',
  AIRLOCK_ERR_NOT_ROOT: 'airlock needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to build sandboxes',
  AIRLOCK_ERR_MISSING_TOOL: 'a system program airlock drives (nft, ip, bwrap, setpriv, sysctl) is missing',
  AIRLOCK_ERR_CONFIG: 'the configuration file or a flag value is invalid',
  AIRLOCK_ERR_STATE:
    'the state directory or database cannot be used, or a user other than root could change it or a directory above it',
  AIRLOCK_ERR_POOL_INVALID: 'the address pool is not a usable IPv4 CIDR',
  AIRLOCK_ERR_POOL_EXHAUSTED: 'every /30 of the address pool is in use',
  AIRLOCK_ERR_HOST_LOCK: 'another airlock process held the host-wide allocation lock too long',
  AIRLOCK_ERR_NET_SETUP: 'creating the namespace, veth pair or addresses failed',
  AIRLOCK_ERR_NFT_APPLY: 'loading the nftables ruleset or adding set elements failed',
  AIRLOCK_ERR_NFT_VERIFY: 'the enforcement rules were not found in place after applying them',
  AIRLOCK_ERR_USER_UNKNOWN: 'the user given with --user does not exist',
  AIRLOCK_ERR_WORKDIR:
    'the working directory does not exist, is not a directory, or is a place a guest never gets (/, /tmp, a home, the state directory)',
  AIRLOCK_ERR_SANDBOX_CLOSED: 'the sandbox was already closed',
  AIRLOCK_ERR_CGROUP:
    "the sandbox's cgroup (its memory, process and CPU limits) could not be made, joined or removed",
  AIRLOCK_ERR_GUEST_START: 'the guest command could not be started inside its sandbox',
  AIRLOCK_ERR_PROFILE: 'an unknown network profile was chosen, or deny-all was combined with another',
  AIRLOCK_ERR_CREDENTIAL_UNKNOWN: 'no catalogue service takes the credential variable given',
  AIRLOCK_ERR_CREDENTIAL_NOT_ALLOWED:
    "a granted credential's upstream host is not allowed by the chosen profiles",
  AIRLOCK_ERR_SECRET_SOURCE: 'a credential could not be read from its source, or was given as a literal',
  AIRLOCK_ERR_POLICY_DENIED: 'a proxied request was refused by the network profile or endpoint rules (403)',
  AIRLOCK_ERR_BAD_REQUEST: 'a proxied request was malformed: path, method or host (400)',
  AIRLOCK_ERR_UNKNOWN_SERVICE: 'a /proxy/<service> route named no known service (404)',
  AIRLOCK_ERR_AUDIT_WRITE:
    'the audit row could not be committed, so the request was not forwarded (HTTP 503)',
  AIRLOCK_ERR_AUDIT_QUERY: 'an audit query (--query or --sql) is unknown, fails, or tries to write',
  AIRLOCK_ERR_PROXY_BAD_REQUEST: 'the proxy refused a malformed request',
  AIRLOCK_ERR_PROXY_UNKNOWN_SERVICE: 'the request named a service this sandbox has no route for',
  AIRLOCK_ERR_PROXY_CREDENTIAL: "the request carried a credential other than this sandbox's placeholder",
  AIRLOCK_ERR_PROXY_AUDIT: 'the audit record could not be written, so the request was not forwarded',
  AIRLOCK_ERR_PROXY_UPSTREAM: 'the upstream could not be reached or answered with something unusable',
  AIRLOCK_ERR_PROXY_TLS: "the upstream's TLS certificate could not be verified",
  AIRLOCK_ERR_PROXY_TIMEOUT: 'the upstream did not answer in time',
  AIRLOCK_ERR_PROXY_HOST_DENIED: 'the forward proxy refused a host the sandbox profiles do not allow',
  AIRLOCK_ERR_PROXY_FORBIDDEN_ADDRESS: 'the host resolved to an address the forward proxy never connects to',
  AIRLOCK_ERR_PROXY_USE_BASE_URL:
    'a credential host was asked for through the forward proxy instead of its base URL',
  AIRLOCK_ERR_PROXY_LISTEN: 'the proxy could not listen on the requested address',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface AirlockErrorOptions {
  /** HTTP status when the error answers a proxied request (omitted = not an HTTP error) */
  status?: number;
  /** the underlying error */
  cause?: unknown;
  /** a one-line hint on how to fix it, printed after the message */
  hint?: string;
}

export class AirlockError extends Error {
  readonly code: ErrorCode;
  readonly status: number | undefined;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: AirlockErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AirlockError';
    this.code = code;
    this.status = options.status;
    this.hint = options.hint;
  }
}

export function isAirlockError(value: unknown): value is AirlockError {
  return value instanceof AirlockError;
}
