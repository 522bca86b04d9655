import { METHODS, type IncomingMessage, type ServerResponse } from 'node:http';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type RawServerDefault,
} from 'fastify';
import { isAirlockError } from '../errors.js';
import { createConnectHandler } from './connect-tunnel.js';
import { createUpstreamDispatcher } from './dispatcher.js';
import { createEgressGuard } from './egress-guard.js';
import type { ForwardContext } from './forward-context.js';
import { createForwardHttpHandler } from './forward-http.js';
import { createProxyServer } from './proxy-server.js';
import { createProxyLogger } from './logger.js';
import { errorType, sendAirlockError, sendError } from './proxy-error.js';
import { createReverseHandler } from './reverse-route.js';
import type { ProxyDeps, ProxyTimeouts } from './types.js';

/** Defaults fit long LLM calls: a slow first token, then quiet stretches inside an SSE stream. */
export const DEFAULT_TIMEOUTS: Required<ProxyTimeouts> = {
  connect: 10_000,
  headers: 10 * 60_000,
  bodyIdle: 5 * 60_000,
  clientHeaders: 30_000,
  clientRequest: 15 * 60_000,
};

/**
 * One sandbox's proxy as a fastify app, not yet listening (tests use `inject`; `startProxy`
 * binds it to the gateway). The reverse route is a fastify route; the forward proxy
 * (absolute-form and CONNECT) sits beside it on the same server. Bodies are never parsed: the
 * `*` parser hands the raw stream on, so there is no body limit to hit and nothing is buffered.
 */
export function buildProxy(deps: ProxyDeps): FastifyInstance {
  const timeouts = { ...DEFAULT_TIMEOUTS, ...deps.timeouts };
  const logger = createProxyLogger(deps.logger);
  const dispatcher = createUpstreamDispatcher({
    resolve: deps.resolve ?? {},
    upstreamCa: deps.upstreamCa ?? [],
    hostCa: deps.hostCa ?? {},
    connectTimeout: timeouts.connect,
    headersTimeout: timeouts.headers,
    bodyTimeout: timeouts.bodyIdle,
  });

  const forwardContext: ForwardContext = {
    deps,
    logger,
    timeouts,
    guard: createEgressGuard({
      forward: deps.forwardProxy,
      resolve: deps.resolve ?? {},
      services: deps.services,
      credentials: deps.credentials,
    }),
  };

  const app: FastifyInstance = Fastify<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger>({
    loggerInstance: logger,
    // fastify's request logs include the URL (and so a query); the proxy logs its own summaries
    logController: new LogController({ disableRequestLogging: true }),
    serverFactory: (reverse) =>
      createProxyServer({
        timeouts,
        reverse,
        forward: createForwardHttpHandler(forwardContext),
        connect: createConnectHandler(forwardContext),
      }),
    return503OnClosing: true,
    forceCloseConnections: true, // closing a sandbox ends its streams now, not when they finish
    frameworkErrors(err, _request, reply) {
      sendError(reply, 400, errorType('AIRLOCK_ERR_PROXY_BAD_REQUEST'), `malformed request (${err.code})`);
    },
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));

  // fastify routes only the common methods; every other one Node parses (PURGE, PROPFIND, …) must
  // still reach the policy, which refuses it unless an endpoint rule names it. (CONNECT never
  // gets here: the server's 'connect' event takes it.)
  for (const method of METHODS) {
    if (method !== 'CONNECT' && !app.supportedMethods.includes(method)) {
      app.addHttpMethod(method, { hasBody: true });
    }
  }
  app.all('/proxy/*', createReverseHandler({ deps, dispatcher, logger }));
  app.setNotFoundHandler((_request, reply) => {
    sendError(
      reply,
      404,
      errorType('AIRLOCK_ERR_PROXY_UNKNOWN_SERVICE'),
      'no such route; use the base-URL variables airlock set (/proxy/<service>/…)',
    );
  });
  app.setErrorHandler((err: FastifyError, _request, reply) => {
    if (isAirlockError(err)) return sendAirlockError(reply, err);
    const status = typeof err.statusCode === 'number' && err.statusCode < 500 ? 400 : 500;
    if (status === 500) logger.error({ code: err.code }, 'internal proxy error');
    sendError(
      reply,
      status,
      errorType(status === 400 ? 'AIRLOCK_ERR_PROXY_BAD_REQUEST' : 'AIRLOCK_ERR_PROXY_UPSTREAM'),
      status === 400 ? `malformed request (${err.code ?? 'bad request'})` : 'internal proxy error',
    );
  });
  app.addHook('onClose', async () => {
    await dispatcher.close();
  });
  return app;
}
