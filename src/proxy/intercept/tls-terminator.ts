import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ProxyLogger } from '../core/logger.js';
import type { ForwardTarget } from '../../policy/index.js';
import { serverOptions } from '../core/proxy-server.js';
import type { ProxyTimeouts } from '../types.js';
import type { SandboxCa } from './sandbox-ca.js';

/** The verified CONNECT target of an intercepted tunnel: where its requests go, whatever their Host says. */
export interface InterceptTarget {
  target: ForwardTarget;
  /** the granted service whose credential its requests get (omitted = none: `--intercept all`) */
  service?: string;
}

/** An intercepted tunnel's decrypted side, and how a CONNECT becomes one. */
export interface TlsTerminator {
  /**
   * an HTTP server (never listening) fed with the decrypted tunnels: 'request' serves each
   * request inside, 'upgrade' each WebSocket (`targetOf(req.socket)` says where either goes)
   */
  server: Server;
  /** the tunnel's verified target, for a request of `server` (undefined = not an intercepted socket) */
  targetOf: (socket: Duplex) => InterceptTarget | undefined;
  /**
   * mints (or reuses) the leaf for the target's host, answers the CONNECT with 200 and
   * terminates the guest's TLS; a failed handshake (a client that pins certificates or does
   * not trust the sandbox CA) closes the tunnel, nothing having gone upstream
   */
  accept(socket: Duplex, target: InterceptTarget): Promise<void>;
  /** ends every decrypted connection now */
  close(): void;
}

export interface TlsTerminatorOptions {
  ca: SandboxCa;
  timeouts: Required<ProxyTimeouts>;
  logger: ProxyLogger;
  /** serves one decrypted request (the tunnel's target is `targetOf(req.socket)`) */
  onRequest: (req: IncomingMessage, res: ServerResponse) => void;
  /** a request inside that Node's parser refused (the proxy's one refusal path) */
  onClientError: (err: Error & { code?: string }, socket: Duplex) => void;
  /** the guest's TLS handshake failed (`code`: the TLS error's), so the tunnel was closed */
  onHandshakeFailed: (target: InterceptTarget, code: string | undefined) => void;
}

/**
 * TLS termination for CONNECTs airlock intercepts: the guest's TLS ends here with a leaf the
 * sandbox's CA minted for the CONNECT host (HTTP/1.1 offered in ALPN, so h2 clients fall
 * back), and the plaintext goes to an HTTP server with the proxy's own header and request
 * deadlines. The target comes from the CONNECT the policy checked, never from a Host header
 * or SNI inside.
 */
export function createTlsTerminator(options: TlsTerminatorOptions): TlsTerminator {
  const { ca, logger } = options;
  const targets = new WeakMap<Duplex, InterceptTarget>();
  const server = createServer(serverOptions(options.timeouts), options.onRequest);
  server.setTimeout(0);
  server.keepAliveTimeout = 65_000;
  server.on('clientError', options.onClientError);
  return {
    server,
    targetOf: (socket) => targets.get(socket),
    async accept(socket, target) {
      const context = await ca.leafContext(target.target.host);
      if (socket.destroyed) return;
      if (socket.readableLength > 0) {
        // TLS before the 200: the TLS layer reads the socket's handle, so those bytes would be lost
        logger.warn(
          { host: target.target.authority },
          'the guest sent bytes before the CONNECT was answered',
        );
        return void socket.destroy();
      }
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      const tls = new (process.getBuiltinModule('node:tls').TLSSocket)(socket, {
        isServer: true,
        secureContext: context,
        ALPNProtocols: ['http/1.1'],
      });
      targets.set(tls, target);
      let secured = false;
      let failure: string | undefined;
      tls.once('secure', () => (secured = true));
      tls.once('error', (err: Error & { code?: string }) => {
        failure = err.code;
        tls.destroy();
      });
      // a client that refuses the leaf may just hang up (an alert, no error here): 'close' tells
      tls.once('close', () => {
        socket.destroy();
        if (!secured) options.onHandshakeFailed(target, failure);
      });
      socket.once('close', () => tls.destroy());
      server.emit('connection', tls);
    },
    close() {
      server.closeAllConnections();
    },
  };
}
