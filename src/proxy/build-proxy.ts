import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { AirlockError } from '../errors.js';
import { createClientErrorHandler } from './core/client-error.js';
import type { ProxyContext } from './core/context.js';
import { createProxyLogger } from './core/logger.js';
import { createProxyServer } from './core/proxy-server.js';
import { splitTarget } from './core/query.js';
import { createRefusals } from './core/refusals.js';
import { failOnBug, gonePort, httpPort, socketPort } from './core/reply-port.js';
import { DEFAULT_LIMITS, DEFAULT_TIMEOUTS, withDefaults } from './core/defaults.js';
import { createAbsoluteFormHandler } from './forward/absolute-form.js';
import { createConnectHandler } from './forward/connect.js';
import { createEgressGuard } from './forward/egress-guard.js';
import { createForwardDispatcher } from './forward/forward-dispatcher.js';
import {
  createInterceptedHandler,
  createInterceptedUpgradeHandler,
} from './intercept/intercepted-request.js';
import { createTlsTerminator, type TlsTerminator } from './intercept/tls-terminator.js';
import { createInspectDispatcher } from './intercept/inspect-dispatcher.js';
import { createReverseRoute, parseReverseTarget, REVERSE_PREFIX } from './reverse/reverse-route.js';
import { handleWebSocketUpgrade } from './reverse/websocket-upgrade.js';
import { createServiceDispatcher, secureContextFor } from './reverse/service-dispatcher.js';
import type { ProxyDeps } from './types.js';

/** One sandbox's proxy, not yet listening. */
export interface ProxyApp {
  /** the listener's HTTP server (`startProxy` binds it to the gateway) */
  server: Server;
  /** stops taking connections, ends every open one now (streams and tunnels too), frees the upstream pools */
  close(): Promise<void>;
  /** a live change: requests from now on are decided and served with these (those in flight finish as they began) */
  update(patch: ProxyUpdate): void;
}

/** What may change while a sandbox runs: its policy, and the credentials it holds. */
export type ProxyUpdate = Pick<ProxyDeps, 'policy' | 'services' | 'credentials'>;

/**
 * One sandbox's proxy on a plain `node:http` server: the reverse route (`/proxy/<service>/…`),
 * the forward proxy (absolute-form and CONNECT) beside it, and a refusal for any other
 * target. Every transport hands its reply port to the one exchange (core/exchange.ts), and
 * every refusal goes through the one refusal path (core/refusals.ts), parser-level ones
 * included. Bodies are never parsed or buffered. (No web framework: every handler takes over
 * the raw request and response, and a framework's per-request objects were most of what the
 * proxy spent besides the work itself.)
 */
export function buildProxy(deps: ProxyDeps): ProxyApp {
  const timeouts = withDefaults(DEFAULT_TIMEOUTS, deps.timeouts);
  const logger = createProxyLogger(deps.logger);
  const resolve = deps.resolve ?? {};
  const egress = createEgressGuard({ ...deps.egress, resolve, connectTimeout: timeouts.connect });
  const ctx: ProxyContext = {
    deps,
    policy: deps.policy,
    audit: deps.audit,
    logger,
    timeouts,
    refusals: createRefusals({
      sandboxId: deps.sandboxId,
      audit: deps.audit,
      logger,
      limits: deps.limits,
      onRefusal: deps.onRefusal,
    }),
    egress,
    serviceDispatcher: createServiceDispatcher({
      resolve,
      upstreamCa: deps.upstreamCa ?? [],
      hostCa: deps.hostCa ?? {},
      connectTimeout: timeouts.connect,
      headersTimeout: timeouts.headers,
      bodyTimeout: timeouts.bodyIdle,
    }),
    forwardDispatcher: createForwardDispatcher({
      guard: egress,
      resolve,
      headersTimeout: timeouts.headers,
      bodyTimeout: timeouts.bodyIdle,
    }),
  };
  const { refusals } = ctx;
  let exchange = createReverseRoute(ctx);
  const terminator: TlsTerminator | undefined = deps.intercept
    ? createTlsTerminator({
        ca: deps.intercept.ca,
        timeouts,
        logger,
        onRequest: createInterceptedHandler(
          ctx,
          () => terminator!,
          () => exchange,
        ),
        onClientError: createClientErrorHandler(refusals),
        // a tool that pins certificates or ignores the sandbox CA: on record, and shown as blocked
        onHandshakeFailed: ({ target, service }, code) =>
          refusals.refuse(
            gonePort,
            new AirlockError(
              'AIRLOCK_ERR_BAD_REQUEST',
              `TLS handshake with the guest failed${code ? ` (${code})` : ''}: the client pins certificates or does not trust the sandbox CA (/run/airlock/ca-bundle.pem)`,
            ),
            {
              method: 'CONNECT',
              host: target.authority,
              path: '',
              startedAt: Date.now(),
              ...(service ? { service } : {}),
            },
          ),
      })
    : undefined;
  if (terminator) {
    ctx.terminator = terminator;
    terminator.server.on(
      'upgrade',
      createInterceptedUpgradeHandler(ctx, () => terminator),
    );
  }
  if (terminator && deps.intercept?.scope === 'all') {
    ctx.inspectDispatcher = createInspectDispatcher({
      guard: egress,
      secureContext: secureContextFor(deps.upstreamCa ?? []),
      headersTimeout: timeouts.headers,
      bodyTimeout: timeouts.bodyIdle,
    });
  }
  const unknownRoute = () =>
    new AirlockError(
      'AIRLOCK_ERR_UNKNOWN_SERVICE',
      'no such route; use the base-URL variables airlock set (/proxy/<service>/…)',
    );

  /** Origin-form requests: `/proxy/<service>/…` goes to the reverse route, anything else is refused. */
  function serveOriginForm(req: IncomingMessage, res: ServerResponse): void {
    const port = httpPort(req, res);
    const url = req.url ?? '';
    if (url.startsWith(REVERSE_PREFIX)) {
      exchange.serve(port, req).catch(failOnBug(port, logger));
      return;
    }
    const [path, query] = splitTarget(url);
    const refused = { method: req.method ?? '-', host: '', path, startedAt: Date.now() };
    refusals.refuse(port, unknownRoute(), query ? { ...refused, query } : refused);
  }

  /**
   * Upgrades (Node hands every request with `Connection: upgrade` here): a WebSocket on the
   * reverse route; anything else is refused as the same request without Upgrade would be, or
   * as a bad request (absolute-form: the forward proxy relays WebSockets only inside CONNECT).
   */
  function serveUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = req.url ?? '';
    if (url.startsWith(REVERSE_PREFIX)) {
      const route = parseReverseTarget(url) ?? { service: '', rawTarget: url.slice(REVERSE_PREFIX.length) };
      return handleWebSocketUpgrade(ctx, req, socket, head, route);
    }
    const port = socketPort(socket, head);
    const [path, query] = splitTarget(url);
    const refused = { method: req.method ?? '-', host: '', path, startedAt: Date.now() };
    const error = url.startsWith('/')
      ? unknownRoute()
      : new AirlockError(
          'AIRLOCK_ERR_BAD_REQUEST',
          'upgrades are relayed on the reverse route only (/proxy/<service>/…); through the forward proxy use CONNECT',
        );
    refusals.refuse(port, error, query ? { ...refused, query } : refused);
  }

  const { connections } = withDefaults(DEFAULT_LIMITS, deps.limits);
  const server = createProxyServer({
    timeouts,
    reverse: serveOriginForm,
    forward: createAbsoluteFormHandler(ctx),
    connect: createConnectHandler(ctx),
    upgrade: serveUpgrade,
    connections,
    // on record like any refusal (a row each, folded past the refusal rate); nothing to answer
    onDrop: () =>
      refusals.refuse(
        gonePort,
        new AirlockError(
          'AIRLOCK_ERR_TOO_MANY_CONNECTIONS',
          `the guest already holds ${connections} connections to its proxy (limits.connections); a new one was closed`,
        ),
        { method: '-', host: '', path: '', startedAt: Date.now() },
      ),
  });
  server.on('clientError', createClientErrorHandler(refusals));
  // tunnels and upgraded sockets leave the server's own connection tracking: closing a sandbox must end them too
  const tunnels = new Set<Duplex>();
  const track = (_req: IncomingMessage, socket: Duplex) => {
    tunnels.add(socket);
    socket.once('close', () => tunnels.delete(socket));
  };
  server.on('connect', track);
  server.on('upgrade', track);
  let closing: Promise<void> | undefined;
  return {
    server,
    update(patch) {
      ctx.deps = { ...ctx.deps, ...patch };
      ctx.policy = patch.policy;
      exchange = createReverseRoute(ctx);
    },
    close() {
      closing ??= (async () => {
        refusals.flush();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections(); // closing a sandbox ends its streams now, not when they finish
        for (const socket of tunnels) socket.destroy();
        terminator?.close();
        await Promise.all([
          closed,
          ctx.serviceDispatcher.close(),
          ctx.forwardDispatcher.close(),
          ctx.inspectDispatcher?.close(),
        ]);
      })();
      return closing;
    },
  };
}
