import type { Duplex } from 'node:stream';
import { AirlockError } from '../../errors.js';
import { splitTarget } from './query.js';
import type { Refusals, RefusedRequest } from './refusals.js';
import { socketPort } from './reply-port.js';

/** What Node's HTTP parser refused, in the registry's words. */
function parserError(code: string | undefined): AirlockError {
  if (code === 'HPE_HEADER_OVERFLOW')
    return new AirlockError('AIRLOCK_ERR_HEADERS_TOO_LARGE', 'the request headers are larger than 16 KiB');
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return new AirlockError('AIRLOCK_ERR_CLIENT_TIMEOUT', 'the request was not received in time');
  return new AirlockError('AIRLOCK_ERR_BAD_REQUEST', `malformed request (${code ?? 'unparseable'})`);
}

/** The request line as far as it can be read, for the audit row (method token and path only). */
function requestLine(raw: Buffer | undefined, startedAt: number): RefusedRequest {
  const line = /^([!-~]{1,32}) ([!-~]{1,4096})/.exec(raw?.subarray(0, 4200).toString('latin1') ?? '');
  const [path, query] = splitTarget(line?.[2] ?? '');
  const request: RefusedRequest = { method: line?.[1] ?? '-', host: '', path, startedAt };
  if (query) request.query = query;
  return request;
}

/**
 * Requests Node's parser refuses before any handler sees them (lowercase or unknown methods,
 * ambiguous framing, obs-fold, oversized headers, an HTTP/2 preface, a slow sender) are
 * refusals like any other: a row (or a folded count) and airlock's JSON answer, then the
 * connection closes. A reset connection is not a request.
 */
export function createClientErrorHandler(refusals: Refusals) {
  return (err: Error & { code?: string; rawPacket?: unknown }, socket: Duplex): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const raw = Buffer.isBuffer(err.rawPacket) ? err.rawPacket : undefined;
    refusals.refuse(socketPort(socket), parserError(err.code), requestLine(raw, Date.now()));
  };
}
