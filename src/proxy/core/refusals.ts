import type { ProxyLogger } from './logger.js';
import type { AuditSink, RequestIntent } from '../../audit/sink.js';
import { AirlockError, errorType } from '../../errors.js';
import type { ProxyLimits, RefusalListener } from '../types.js';
import { errorAnswer } from './answer.js';
import { DEFAULT_LIMITS, withDefaults } from './defaults.js';
import { createRateLimit } from './rate-limit.js';
import type { ReplyPort } from './reply-port.js';

/** What is known about a refused request (never a secret value). */
export type RefusedRequest = Omit<RequestIntent, 'sandboxId'>;

/** The refusing side of one sandbox's proxy: its rate limits, its audit rows, its answers. */
export interface Refusals {
  /** takes one request from the sandbox's request rate; past it, refuses it (429) and returns false */
  admit(port: ReplyPort, request: RefusedRequest): boolean;
  /**
   * records a refusal (its own row, or folded into one row per second past the refusal rate) and
   * answers it; `retryAfter` in seconds becomes its Retry-After header (omitted = none, or 1 s for
   * AIRLOCK_ERR_RATE_LIMITED)
   */
  refuse(port: ReplyPort, error: AirlockError, request: RefusedRequest, retryAfter?: number): void;
  /** writes the pending folded row now (the proxy is closing) */
  flush(): void;
}

export interface RefusalsOptions {
  sandboxId: string;
  audit: AuditSink;
  logger: ProxyLogger;
  limits?: ProxyLimits;
  /** told of each refusal that gets its own row (never of folded ones), e.g. to show it live */
  onRefusal?: RefusalListener;
}

/** How long a folded row collects refusals, in ms. */
const FOLD_WINDOW_MS = 1000;

/**
 * Every refusal is on record, and a flood of them costs one row per second: the first
 * `refusalBurst` refusals and `refusalsPerSecond` after that get a row each and their own
 * answer; the rest are answered 429 (with the reason they would have had) and counted in one
 * row per second per sandbox, `airlock_rate_limited: N refusals folded (403×n, …)`.
 */
export function createRefusals(options: RefusalsOptions): Refusals {
  const { audit, logger, sandboxId } = options;
  const limits = withDefaults(DEFAULT_LIMITS, options.limits);
  const requests = createRateLimit(limits.requestsPerSecond, limits.requestBurst);
  const itemised = createRateLimit(limits.refusalsPerSecond, limits.refusalBurst);
  let folded: { from: number; total: number; byStatus: Map<number, number> } | undefined;
  let timer: NodeJS.Timeout | undefined;

  function record(request: RefusedRequest, status: number, reason: string): void {
    try {
      audit.denied({ ...request, sandboxId, status, reason });
    } catch (err) {
      logger.error({ err }, 'audit denial could not be recorded');
    }
  }

  function flush(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!folded) return;
    const { from, total, byStatus } = folded;
    folded = undefined;
    const counts = [...byStatus].map(([status, n]) => `${status}×${n}`).join(', ');
    const reason = `${errorType('AIRLOCK_ERR_RATE_LIMITED')}: ${total} refusals folded (${counts})`;
    record({ method: '*', host: '', path: '', startedAt: from }, 429, reason);
    logger.warn({ sandboxId, total, counts }, 'refusals folded');
  }

  function fold(request: RefusedRequest, status: number): void {
    folded ??= { from: request.startedAt, total: 0, byStatus: new Map() };
    folded.total++;
    folded.byStatus.set(status, (folded.byStatus.get(status) ?? 0) + 1);
    timer ??= setTimeout(flush, FOLD_WINDOW_MS).unref();
  }

  function refuse(port: ReplyPort, error: AirlockError, request: RefusedRequest, retryAfter?: number): void {
    const status = error.status ?? 500;
    if (itemised.take()) {
      record(request, status, errorType(error.code));
      logger.info(
        { service: request.service, method: request.method, host: request.host, status, code: error.code },
        'refused',
      );
      port.fail(
        errorAnswer(error, retryAfter ?? (error.code === 'AIRLOCK_ERR_RATE_LIMITED' ? 1 : undefined)),
      );
      try {
        options.onRefusal?.({
          method: request.method,
          host: request.host,
          path: request.path,
          status,
          code: error.code,
          message: error.message,
        });
      } catch (err) {
        logger.error({ err }, 'refusal listener failed');
      }
      return;
    }
    fold(request, status);
    const limited = new AirlockError(
      'AIRLOCK_ERR_RATE_LIMITED',
      `more than ${limits.refusalsPerSecond} refused requests per second from this sandbox; this one is counted, not logged on its own (${status} ${errorType(error.code)}: ${error.message})`,
    );
    port.fail(errorAnswer(limited, 1));
  }

  return {
    refuse,
    flush,
    admit(port, request) {
      if (requests.take()) return true;
      refuse(
        port,
        new AirlockError(
          'AIRLOCK_ERR_RATE_LIMITED',
          `more than ${limits.requestsPerSecond} requests per second from this sandbox (burst ${limits.requestBurst}); slow down`,
        ),
        request,
      );
      return false;
    },
  };
}
