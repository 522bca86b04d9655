import type { Socket } from 'node:net';
import type { ProxyLogger } from './logger.js';
import type { UpstreamDispatcher } from './undici-parts.js';
import type { AuditSink } from '../../audit/sink.js';
import type { SandboxPolicy } from '../../policy/index.js';
import type { ProxyDeps, ProxyTimeouts } from '../types.js';
import type { TlsTerminator } from '../intercept/tls-terminator.js';
import type { Refusals } from './refusals.js';

/** An address the egress guard checked, ready to dial. */
export interface CheckedAddress {
  ip: string;
  /** the admin pinned the host in `resolve`: its address is trusted as configured */
  pinned: boolean;
}

/** Where the forward proxy may connect (implemented by forward/egress-guard.ts). */
export interface EgressGuard {
  /** resolves `host` once and checks every address it has; throws AIRLOCK_ERR_FORBIDDEN_ADDRESS or _UPSTREAM */
  choose(host: string): Promise<CheckedAddress>;
  /** connects to a checked address; the connected peer is checked again, and a socket that connects too late is destroyed */
  dial(address: CheckedAddress, port: number): Promise<Socket>;
}

/** What every transport of one sandbox's proxy shares (built once, in buildProxy). */
export interface ProxyContext {
  deps: ProxyDeps;
  policy: SandboxPolicy;
  audit: AuditSink;
  logger: ProxyLogger;
  timeouts: Required<ProxyTimeouts>;
  refusals: Refusals;
  /** the forward proxy's address checks and dials */
  egress: EgressGuard;
  /** keep-alive pools to the services' upstreams (TLS, `resolve`, CAs) */
  serviceDispatcher: UpstreamDispatcher;
  /** keep-alive pools for absolute-form HTTP, dialling checked addresses only */
  forwardDispatcher: UpstreamDispatcher;
  /** verified TLS to checked addresses, for requests in tunnels `--intercept all` opened (omitted = not asked for) */
  inspectDispatcher?: UpstreamDispatcher;
  /** terminates intercepted CONNECTs (omitted = no interception) */
  terminator?: TlsTerminator;
}
