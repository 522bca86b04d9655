import { LazyAgent } from '../core/undici-parts.js';
import type { EgressGuard } from '../core/context.js';

export interface ForwardDispatcherOptions {
  guard: EgressGuard;
  /** the admin's pins: their addresses were chosen by the admin, not checked by class */
  resolve: Readonly<Record<string, string>>;
  /** time to response headers in `ms` */
  headersTimeout: number;
  /** idle time between body chunks in `ms` */
  bodyTimeout: number;
}

/**
 * The undici Agent for absolute-form HTTP. Requests go to the origin `http://<checked ip>:<port>`
 * (the Host header names the host), so a pool only ever holds connections to an address the
 * guard chose, and every connection is opened by the guard, which checks its peer.
 */
export function createForwardDispatcher(options: ForwardDispatcherOptions): LazyAgent {
  const pinned = new Set(Object.values(options.resolve));
  return new LazyAgent({
    headersTimeout: options.headersTimeout,
    bodyTimeout: options.bodyTimeout,
    keepAliveTimeout: 30_000,
    connect(opts, callback) {
      const ip = opts.hostname.replace(/^\[(.*)\]$/, '$1');
      // undici leaves the port empty when it is the scheme's default
      const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80);
      options.guard.dial({ ip, pinned: pinned.has(ip) }, port).then(
        (socket) => callback(null, socket),
        (err: Error) => callback(err, null),
      );
    },
  });
}
