import type { SecureContext } from 'node:tls';
import { LazyAgent } from '../core/undici-parts.js';
import type { EgressGuard } from '../core/context.js';

export interface InspectDispatcherOptions {
  guard: EgressGuard;
  /** system roots plus the config's `upstreamCa` */
  secureContext: SecureContext;
  /** time to response headers in `ms` */
  headersTimeout: number;
  /** idle time between body chunks in `ms` */
  bodyTimeout: number;
}

/**
 * The undici Agent for requests inside tunnels `--intercept all` opens to hosts without a
 * credential: each connection goes to an address the egress guard chose and checked (as an
 * opaque tunnel's would), then TLS to the host by name, verified against the system roots
 * and `upstreamCa`.
 */
export function createInspectDispatcher(options: InspectDispatcherOptions): LazyAgent {
  return new LazyAgent({
    headersTimeout: options.headersTimeout,
    bodyTimeout: options.bodyTimeout,
    keepAliveTimeout: 30_000,
    connect(opts, callback) {
      const host = opts.hostname.replace(/^\[(.*)\]$/, '$1');
      const port = Number(opts.port) || 443;
      options.guard
        .choose(host)
        .then((address) => options.guard.dial(address, port))
        .then(
          (socket) => {
            const tls = process.getBuiltinModule('node:tls').connect({
              socket,
              servername: host,
              secureContext: options.secureContext,
              rejectUnauthorized: true,
              ALPNProtocols: ['http/1.1'],
            });
            let answered = false;
            tls.once('secureConnect', () => {
              answered = true;
              callback(null, tls);
            });
            tls.once('error', (err: Error) => {
              if (answered) return; // undici watches the socket from here on
              answered = true;
              tls.destroy();
              callback(err, null);
            });
          },
          (err: Error) => callback(err, null),
        );
    },
  });
}
