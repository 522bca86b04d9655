import type { SecureContext } from 'node:tls';
import type { buildConnector as BuildConnector } from 'undici';
import { buildConnector, LazyAgent } from '../core/undici-parts.js';

export interface ServiceDispatcherOptions {
  /** hostname → IP to connect to; SNI, certificate check and Host stay the hostname (omitted = DNS) */
  resolve?: Readonly<Record<string, string>>;
  /** extra PEM CAs, trusted in addition to the system ones */
  upstreamCa?: readonly string[];
  /** extra PEM CAs trusted for one upstream hostname only (a custom service's `caFile`) */
  hostCa?: Readonly<Record<string, readonly string[]>>;
  /** TCP + TLS connect limit in `ms` */
  connectTimeout: number;
  /** time to response headers in `ms` */
  headersTimeout: number;
  /** idle time between body chunks in `ms` */
  bodyTimeout: number;
}

/**
 * Secure contexts by trust list, shared by every proxy of this process: a context holding the
 * ~140 system roots costs about 1.5 MB of native memory, more than the rest of an idle sandbox.
 * Contexts are immutable, so sandboxes with the same trust list can share one.
 */
const secureContexts = new Map<string, SecureContext>();

/** The shared secure context trusting the system roots plus `ca`. */
export function secureContextFor(ca: readonly string[]): SecureContext {
  const key = ca.join('\n');
  let context = secureContexts.get(key);
  if (context === undefined) {
    const { createSecureContext, rootCertificates } = process.getBuiltinModule('node:tls');
    context = createSecureContext({ ca: [...rootCertificates, ...ca] });
    secureContexts.set(key, context);
  }
  return context;
}

/** Where and how to open TLS to a service's upstream host outside undici (a WebSocket leg), as the Agent below does. */
export function upstreamTlsTarget(
  options: Pick<ServiceDispatcherOptions, 'resolve' | 'upstreamCa' | 'hostCa'>,
  hostname: string,
): { host: string; servername: string; secureContext: SecureContext } {
  const resolve = options.resolve ?? {};
  const pinned = Object.hasOwn(resolve, hostname) ? resolve[hostname] : undefined;
  const extra = Object.hasOwn(options.hostCa ?? {}, hostname) ? options.hostCa![hostname]! : [];
  return {
    host: pinned ?? hostname,
    servername: hostname,
    secureContext: secureContextFor([...(options.upstreamCa ?? []), ...extra]),
  };
}

/**
 * One undici Agent per proxy: it keeps a keep-alive pool per upstream origin. TLS is always
 * verified against the system CAs plus the configured ones (`ca` replaces Node's default
 * list, so the system roots are passed explicitly to keep the extra CAs additive).
 */
export function createServiceDispatcher(options: ServiceDispatcherOptions): LazyAgent {
  const resolve = options.resolve ?? {};
  const hostCa = options.hostCa ?? {};
  // One secure context per trust list, built once: parsing ~140 root certificates for every
  // new upstream connection would cost about a millisecond each. Built at the first connection
  // that needs it, not at start: ~60 ms a sandbox that never calls out should not pay.
  const connectors = new Map<string, BuildConnector.connector>();
  const connectorFor = (hostname: string) => {
    // a service's own CA is trusted for that service's hosts and nowhere else
    const key = Object.hasOwn(hostCa, hostname) ? hostname : '';
    let connector = connectors.get(key);
    if (connector === undefined) {
      connector = buildConnector({
        secureContext: secureContextFor([...(options.upstreamCa ?? []), ...(hostCa[key] ?? [])]),
        rejectUnauthorized: true,
        timeout: options.connectTimeout,
      });
      connectors.set(key, connector);
    }
    return connector;
  };
  return new LazyAgent({
    headersTimeout: options.headersTimeout,
    bodyTimeout: options.bodyTimeout,
    keepAliveTimeout: 30_000,
    connect(opts, callback) {
      const pinned = Object.hasOwn(resolve, opts.hostname) ? resolve[opts.hostname] : undefined;
      // connect to the pinned IP but keep the real name for SNI and the certificate check
      connectorFor(opts.hostname)(
        { ...opts, hostname: pinned ?? opts.hostname, servername: opts.hostname },
        callback,
      );
    },
  });
}
