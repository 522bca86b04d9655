import { pino, type Logger } from 'pino';
import type { ProxyLoggerOptions } from '../types.js';

/** Headers that carry credentials or sessions; redacted wherever a request or response object is logged. */
const SENSITIVE_HEADERS = [
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'x-goog-api-key',
  'api-key',
  'cookie',
  'set-cookie',
];

const REDACT_PATHS = SENSITIVE_HEADERS.flatMap((h) => [
  `req.headers["${h}"]`,
  `res.headers["${h}"]`,
  `headers["${h}"]`,
]);

/**
 * The proxy's pino logger. The proxy logs its own one-line summaries (service, method, path,
 * status) and never a URL with a query or a header value; redaction is the second line of defence.
 */
export function createProxyLogger(options: ProxyLoggerOptions = {}): Logger {
  return pino(
    { level: options.level ?? 'info', redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    options.stream ?? process.stdout,
  );
}
