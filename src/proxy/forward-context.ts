import type { Logger } from 'pino';
import type { EgressDecision } from './egress-guard.js';
import type { ForwardTarget } from './forward-target.js';
import type { ProxyDeps, ProxyTimeouts } from './types.js';

/** What the forward-proxy handlers (absolute-form HTTP and CONNECT) share. */
export interface ForwardContext {
  deps: ProxyDeps;
  logger: Logger;
  timeouts: Required<ProxyTimeouts>;
  guard(target: ForwardTarget): Promise<EgressDecision>;
}
