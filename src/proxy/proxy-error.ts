import type { FastifyReply } from 'fastify';
import { AirlockError, type ErrorCode } from '../errors.js';

/** `AIRLOCK_ERR_PROXY_TIMEOUT` → `airlock_proxy_timeout`: the `type` guests see in error bodies. */
export function errorType(code: ErrorCode): string {
  return code.replace(/^AIRLOCK_ERR_/, 'airlock_').toLowerCase();
}

/** The one JSON shape of every answer the proxy makes itself. */
export function errorBody(type: string, message: string): string {
  return JSON.stringify({ error: { type, message } });
}

/** An `AirlockError` carrying the HTTP status the proxy answers with. */
export function proxyError(code: ErrorCode, status: number, message: string, cause?: unknown): AirlockError {
  return new AirlockError(code, message, { status, cause });
}

/** Answers with a proxy error, unless the response has already started (then it is cut short). */
export function sendError(reply: FastifyReply, status: number, type: string, message: string): void {
  if (reply.sent || reply.raw.headersSent) {
    reply.raw.destroy();
    return;
  }
  void reply
    .code(status)
    .header('content-type', 'application/json; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(errorBody(type, message));
}

export function sendAirlockError(reply: FastifyReply, err: AirlockError): void {
  sendError(reply, err.status ?? 500, errorType(err.code), err.message);
}
