import type { Logger } from 'pino';
import type { AuditSink, RequestIntent } from '../audit/sink.js';

/** Records a refusal; a failing audit write is logged, and the refusal stands. */
export function recordDenial(
  audit: AuditSink,
  logger: Logger,
  request: RequestIntent,
  status: number,
  reason: string,
): void {
  try {
    audit.denied({ ...request, status, reason });
  } catch (err) {
    logger.error({ err }, 'audit denial could not be recorded');
  }
  logger.info(
    { service: request.service, method: request.method, host: request.host, status, reason },
    'refused',
  );
}
