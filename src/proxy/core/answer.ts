import { STATUS_CODES } from 'node:http';
import { errorType, type AirlockError } from '../../errors.js';

/** An answer the proxy writes itself: always `{"error":{"type","message"}}`. */
export interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * The one voice: turns an error into the guest's answer. The status comes from the error
 * registry, the type from the code, the message (the reason: which rule, host or limit) from
 * the error itself; a 429 says when to come back. The reason also goes in `x-airlock-error`
 * (ASCII), because some clients print only the head of a refused `CONNECT` (`curl -v`).
 */
export function errorAnswer(error: AirlockError, retryAfterSeconds?: number): ErrorAnswer {
  const type = errorType(error.code);
  const body = JSON.stringify({ error: { type, message: error.message } });
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    'x-airlock-error': `${type}: ${error.message}`.replace(/[^\x20-\x7e]/g, '?'),
  };
  if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds);
  return { status: error.status ?? 500, headers, body };
}

/** The answer as raw HTTP/1.1 bytes, for sockets without a response object (CONNECT, parser errors). */
export function rawAnswer(answer: ErrorAnswer): string {
  const head = Object.entries({ ...answer.headers, connection: 'close' })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? 'Error'}\r\n${head}\r\n${answer.body}`;
}
