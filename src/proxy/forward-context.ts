import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { AuditEntry, RequestIntent } from '../audit/sink.js';
import { errorType } from './proxy-error.js';
import { hostHeaderMatches, type ForwardTarget } from './forward-target.js';
import type { EgressDecision } from './egress-guard.js';
import type { ProxyDeps, ProxyTimeouts } from './types.js';

/** What the forward-proxy handlers (absolute-form HTTP and CONNECT) share. */
export interface ForwardContext {
  deps: ProxyDeps;
  logger: Logger;
  timeouts: Required<ProxyTimeouts>;
  guard(target: ForwardTarget): Promise<EgressDecision>;
}

/** Writes an error answer to the guest (a raw socket for CONNECT, a response otherwise). */
export type ForwardReply = (status: number, type: string, message: string) => void;

/**
 * What both forward handlers do once the target is parsed: the Host header must agree with
 * it, the egress guard must allow it, and the audit intent must be committed before anything
 * is dialled. Returns the entry and the checked address, or null once `refuse` (a recorded
 * denial) or `reply` (503: the audit log is unavailable) has answered.
 */
export async function admitForward(
  ctx: ForwardContext,
  req: IncomingMessage,
  target: ForwardTarget,
  defaultPort: number,
  intent: RequestIntent,
  refuse: ForwardReply,
  reply: ForwardReply,
): Promise<{ entry: AuditEntry; ip: string } | null> {
  if (!hostHeaderMatches(req.headers.host, target, defaultPort)) {
    refuse(
      400,
      errorType('AIRLOCK_ERR_PROXY_BAD_REQUEST'),
      'the Host header disagrees with the request target',
    );
    return null;
  }
  const decision = await ctx.guard(target);
  if (!decision.ok) {
    refuse(decision.status, errorType(decision.code), decision.message);
    return null;
  }
  try {
    return { entry: await ctx.deps.audit.intent(intent), ip: decision.ip };
  } catch (err) {
    ctx.logger.error({ err }, 'audit intent failed; nothing forwarded');
    reply(503, errorType('AIRLOCK_ERR_PROXY_AUDIT'), 'the audit log could not record this request');
    return null;
  }
}
