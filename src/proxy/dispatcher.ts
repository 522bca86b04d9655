import { rootCertificates } from 'node:tls';
import { Agent, buildConnector } from 'undici';

export interface UpstreamDispatcherOptions {
  /** hostname → IP to connect to; SNI, certificate check and Host stay the hostname (omitted = DNS) */
  resolve?: Readonly<Record<string, string>>;
  /** extra PEM CAs, trusted in addition to the system ones */
  upstreamCa?: readonly string[];
  /** TCP + TLS connect limit in `ms` */
  connectTimeout: number;
  /** time to response headers in `ms` */
  headersTimeout: number;
  /** idle time between body chunks in `ms` */
  bodyTimeout: number;
}

/**
 * One undici Agent per proxy: it keeps a keep-alive pool per upstream origin. TLS is always
 * verified against the system CAs plus the configured ones (`ca` replaces Node's default
 * list, so the system roots are passed explicitly to keep the extra CAs additive).
 */
export function createUpstreamDispatcher(options: UpstreamDispatcherOptions): Agent {
  const resolve = options.resolve ?? {};
  const connector = buildConnector({
    ca: [...rootCertificates, ...(options.upstreamCa ?? [])],
    rejectUnauthorized: true,
    timeout: options.connectTimeout,
  });
  return new Agent({
    headersTimeout: options.headersTimeout,
    bodyTimeout: options.bodyTimeout,
    keepAliveTimeout: 30_000,
    connect(opts, callback) {
      const pinned = Object.hasOwn(resolve, opts.hostname) ? resolve[opts.hostname] : undefined;
      // connect to the pinned IP but keep the real name for SNI and the certificate check
      connector({ ...opts, hostname: pinned ?? opts.hostname, servername: opts.hostname }, callback);
    },
  });
}
