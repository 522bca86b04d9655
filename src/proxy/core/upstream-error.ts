import { AirlockError, isAirlockError } from '../../errors.js';

const TIMEOUTS = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

function codeOf(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string')
    return err.code;
  return 'unknown';
}

/**
 * Maps a failed upstream exchange to an airlock error (the registry gives its status): time-outs,
 * TLS and connection failures, and the guest's own body not matching its Content-Length. An
 * airlock error (a refused address) stays as it is. The message names the host and the error
 * code only (never a header or URL that could hold a secret).
 */
export function classifyUpstreamError(err: unknown, host: string): AirlockError {
  if (isAirlockError(err)) return err;
  const code = codeOf(err);
  if (TIMEOUTS.has(code)) {
    return new AirlockError(
      'AIRLOCK_ERR_UPSTREAM_TIMEOUT',
      `upstream ${host} did not answer in time (${code})`,
    );
  }
  if (code === 'UND_ERR_INVALID_ARG') {
    // a header or method Node's parser let through but the HTTP client will not send
    return new AirlockError(
      'AIRLOCK_ERR_BAD_REQUEST',
      'the request has a method or header that cannot be forwarded',
    );
  }
  if (code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') {
    return new AirlockError('AIRLOCK_ERR_BAD_REQUEST', 'the request body does not match its Content-Length');
  }
  if (/CERT|SSL|TLS|SIGNATURE|ISSUER/.test(code)) {
    return new AirlockError(
      'AIRLOCK_ERR_UPSTREAM_TLS',
      `TLS verification of upstream ${host} failed (${code})`,
    );
  }
  return new AirlockError('AIRLOCK_ERR_UPSTREAM', `upstream ${host} could not be reached (${code})`);
}
