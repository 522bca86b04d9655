import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerOptions,
  type ServerResponse,
} from 'node:http';
import type { Duplex } from 'node:stream';
import type { ProxyTimeouts } from '../types.js';

/** Request header block limit in bytes (Node's default, stated so it cannot drift). */
export const MAX_HEADER_BYTES = 16 * 1024;

export interface ProxyServerOptions {
  timeouts: Required<ProxyTimeouts>;
  /** origin-form requests: the reverse route (`/proxy/…`) or a refusal */
  reverse: (req: IncomingMessage, res: ServerResponse) => void;
  /** absolute-form and every other request target: the forward proxy */
  forward: (req: IncomingMessage, res: ServerResponse) => void;
  connect: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** requests with `Connection: upgrade` (WebSocket handshakes) */
  upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** connections held at once, tunnels and upgraded sockets included (0 = no limit) */
  connections: number;
  /** a connection was closed for being one too many */
  onDrop: () => void;
}

/** The guest-facing server's limits: header and whole-request deadlines, header size (also inside intercepted tunnels). */
export function serverOptions(timeouts: Required<ProxyTimeouts>): ServerOptions {
  return {
    headersTimeout: timeouts.clientHeaders,
    requestTimeout: timeouts.clientRequest,
    maxHeaderSize: MAX_HEADER_BYTES,
    // how often Node enforces the two deadlines (its default, 30 s, would let them overshoot)
    connectionsCheckingInterval: Math.max(100, Math.min(5_000, timeouts.clientHeaders / 4)),
  };
}

/**
 * The listener's HTTP server: slowloris-proof (headers and whole-request deadlines, checked
 * often enough to matter), a header-size limit, a cap on the connections held at once (each is
 * a descriptor of the engine: Node closes one past it as soon as it is accepted), and the
 * split between the reverse route and the forward proxy by request-target form.
 */
export function createProxyServer(options: ProxyServerOptions): Server {
  const { timeouts } = options;
  const server = createServer(serverOptions(timeouts), (req, res) =>
    req.url?.startsWith('/') ? options.reverse(req, res) : options.forward(req, res),
  );
  // no socket inactivity limit: an idle SSE stream is not a dead connection (bodyIdle bounds upstreams)
  server.setTimeout(0);
  server.keepAliveTimeout = 65_000;
  server.on('connect', options.connect);
  server.on('upgrade', options.upgrade);
  if (options.connections > 0) {
    server.maxConnections = options.connections;
    server.on('drop', options.onDrop);
  }
  return server;
}
