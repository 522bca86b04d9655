import { errorType, type ERRORS, type ErrorCode } from '../errors.js';

/** The codes the proxy answers a guest with: the ones whose type it records as a reason. */
type AnswerCode = {
  [C in ErrorCode]: (typeof ERRORS)[C] extends { status: number } ? C : never;
}[ErrorCode];

/** A few words for each recorded reason type; the type checker keeps this complete. */
const WORDS: Record<AnswerCode, string> = {
  AIRLOCK_ERR_BAD_REQUEST: 'malformed request',
  AIRLOCK_ERR_CLIENT_TIMEOUT: 'request not received in time',
  AIRLOCK_ERR_HEADERS_TOO_LARGE: 'headers over 16 KiB',
  AIRLOCK_ERR_UNKNOWN_SERVICE: 'no such route or service',
  AIRLOCK_ERR_POLICY_DENIED: 'host or port not allowed by the profiles',
  AIRLOCK_ERR_USE_BASE_URL: 'credential host asked for through the forward proxy',
  AIRLOCK_ERR_FORBIDDEN_ADDRESS: 'internal address',
  AIRLOCK_ERR_WRONG_CREDENTIAL: 'a credential other than the placeholder',
  AIRLOCK_ERR_RATE_LIMITED: 'over the rate limit',
  AIRLOCK_ERR_TOO_MANY_CONNECTIONS: 'connection over limits.connections, closed',
  AIRLOCK_ERR_BUDGET_EXHAUSTED: 'over a token, cost or request budget',
  AIRLOCK_ERR_AUDIT_WRITE: 'audit row not written, not forwarded',
  AIRLOCK_ERR_UPSTREAM: 'upstream unreachable or unusable',
  AIRLOCK_ERR_UPSTREAM_TLS: 'upstream certificate not verified',
  AIRLOCK_ERR_UPSTREAM_TIMEOUT: 'upstream timed out',
  AIRLOCK_ERR_INTERNAL: 'airlock bug, not forwarded',
};

const BY_TYPE = new Map(Object.entries(WORDS).map(([code, words]) => [errorType(code as ErrorCode), words]));

/**
 * The `reason` column in words, with the recorded code kept in parentheses:
 * `airlock_policy_denied` → `not in the endpoint rules (airlock_policy_denied)`. The proxy
 * records the type of the answer it gave (plus, for a folded row, `: N refusals folded (…)`);
 * a policy denial of a service request (one with a `service`) is the service's endpoint
 * rules, one without is the forward proxy's host list. Other reasons are already words.
 */
export function reasonInWords(reason: string, service: string | null): string {
  const m = /^(airlock_[a-z_]+)(?::\s*(.*))?$/s.exec(reason);
  const words = m && BY_TYPE.get(m[1]!);
  if (!m || words === undefined) return reason;
  const said =
    m[1] === errorType('AIRLOCK_ERR_POLICY_DENIED') && service !== null ? 'not in the endpoint rules' : words;
  return `${said}${m[2] ? `: ${m[2]}` : ''} (${m[1]})`;
}
