import { hostname } from 'node:os';
import { AirlockError } from '../../errors.js';

/** Headers that carry credentials or sessions; redacted wherever a request or response object is logged. */
const SENSITIVE_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'x-goog-api-key',
  'api-key',
  'cookie',
  'set-cookie',
]);

/** pino's level numbers: a line keeps pino's format, so tools that read pino's lines read these. */
const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity } as const;
export type LogLevelName = keyof typeof LEVELS;

export interface ProxyLoggerOptions {
  /** log level, as AIRLOCK_LOG_LEVEL names it (omitted = 'info') */
  level?: LogLevelName;
  /** where log lines go (omitted = stdout) */
  stream?: NodeJS.WritableStream;
}

/** What the proxy logs through: one JSON line per call, `fields` first, then `msg`. */
export interface ProxyLogger {
  info(fields: object, msg?: string): void;
  warn(fields: object, msg?: string): void;
  error(fields: object, msg?: string): void;
  isLevelEnabled(level: LogLevelName): boolean;
}

/**
 * The proxy's logger: JSON lines in pino's format (`level`, `time`, `pid`, `hostname`, the
 * fields, `msg`), written synchronously to `stream`. The proxy logs its own one-line summaries
 * (service, method, path, status) and never a URL with a query or a header value; redacting
 * credential headers of a logged `req`, `res` or `headers` is the second line of defence.
 * (pino did this before; its ~90 KB were a tenth of every `airlock run`'s start-up bundle.)
 */
export function createProxyLogger(options: ProxyLoggerOptions = {}): ProxyLogger {
  const level = options.level ?? 'info';
  // a library caller's typo must not log everything (or nothing) without a word, as pino refused it too
  if (!Object.hasOwn(LEVELS, level)) {
    throw new AirlockError(
      'AIRLOCK_ERR_CONFIG',
      `unknown log level ${JSON.stringify(String(level).slice(0, 40))}`,
      {
        hint: `use one of: ${Object.keys(LEVELS).join(', ')}`,
      },
    );
  }
  const threshold = LEVELS[level];
  const stream = options.stream ?? process.stdout;
  const prefix = `"pid":${process.pid},"hostname":${JSON.stringify(hostname())}`;
  const write = (level: number, fields: object, msg: string | undefined) => {
    if (level < threshold) return;
    let body: string;
    try {
      body = JSON.stringify({ ...shown(fields), ...(msg === undefined ? {} : { msg }) }).slice(1);
    } catch {
      body = `"msg":${JSON.stringify(msg ?? '')},"logError":"fields could not be serialised"}`;
    }
    stream.write(`{"level":${level},"time":${Date.now()},${prefix}${body === '}' ? '}' : `,${body}`}\n`);
  };
  return {
    info: (fields, msg) => write(LEVELS.info, fields, msg),
    warn: (fields, msg) => write(LEVELS.warn, fields, msg),
    error: (fields, msg) => write(LEVELS.error, fields, msg),
    isLevelEnabled: (level) => LEVELS[level] >= threshold,
  };
}

/** The fields as logged: an `err` as its type, message, code and stack; credential headers redacted. */
function shown(fields: object): Record<string, unknown> {
  const out: Record<string, unknown> = { ...fields };
  if (out.err instanceof Error) out.err = errorFields(out.err);
  if ('headers' in out) out.headers = redactHeaders(out.headers);
  for (const key of ['req', 'res']) {
    const value = out[key];
    if (typeof value === 'object' && value !== null && 'headers' in value) {
      out[key] = { ...value, headers: redactHeaders(value.headers) };
    }
  }
  return out;
}

function errorFields(err: Error): Record<string, unknown> {
  const { code } = err as { code?: unknown };
  return {
    type: err.constructor.name,
    message: err.message,
    ...(code === undefined ? {} : { code }),
    stack: err.stack,
  };
}

function redactHeaders(headers: unknown): unknown {
  if (typeof headers !== 'object' || headers === null) return headers;
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name,
      SENSITIVE_HEADERS.has(name.toLowerCase()) ? '[redacted]' : value,
    ]),
  );
}
