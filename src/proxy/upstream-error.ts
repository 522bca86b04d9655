import { errorType, proxyError } from './proxy-error.js';
import type { AirlockError } from '../errors.js';

const TIMEOUTS = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function codeOf(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string')
    return err.code;
  return 'unknown';
}

/**
 * Maps a failed upstream exchange to the proxy's answer: 504 for time-outs, 502 for TLS and
 * connection failures, 400 when the guest's own body did not match its Content-Length. The
 * message names the host and the error code only (never a header or URL that could hold a secret).
 */
export function classifyUpstreamError(err: unknown, host: string): AirlockError {
  const code = codeOf(err);
  if (TIMEOUTS.has(code)) {
    return proxyError('AIRLOCK_ERR_PROXY_TIMEOUT', 504, `upstream ${host} did not answer in time (${code})`);
  }
  if (code === 'UND_ERR_INVALID_ARG') {
    // a header or method Node's parser let through but the HTTP client will not send
    return proxyError(
      'AIRLOCK_ERR_PROXY_BAD_REQUEST',
      400,
      'the request has a method or header that cannot be forwarded',
    );
  }
  if (code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') {
    return proxyError(
      'AIRLOCK_ERR_PROXY_BAD_REQUEST',
      400,
      'the request body does not match its Content-Length',
    );
  }
  if (/CERT|SSL|TLS|SIGNATURE|ISSUER/.test(code)) {
    return proxyError('AIRLOCK_ERR_PROXY_TLS', 502, `TLS verification of upstream ${host} failed (${code})`);
  }
  return proxyError('AIRLOCK_ERR_PROXY_UPSTREAM', 502, `upstream ${host} could not be reached (${code})`);
}

/** The audit `reason` for an upstream failure: the error's type, without its message. */
export function failureReason(err: AirlockError): string {
  return errorType(err.code);
}
