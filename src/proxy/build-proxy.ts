import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type RawServerDefault,
} from 'fastify';
import { isAirlockError } from '../errors.js';
import { createUpstreamDispatcher } from './dispatcher.js';
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

/** Request header block limit in bytes (Node's default, stated so it cannot drift). */
const MAX_HEADER_BYTES = 16 * 1024;

/**
 * One sandbox's proxy as a fastify app, not yet listening (tests use `inject`; `startProxy`
 * binds it to the gateway). Bodies are never parsed: the `*` parser hands the raw stream on,
 * so there is no body limit to hit and nothing is buffered.
 */
export function buildProxy(deps: ProxyDeps): FastifyInstance {
  const timeouts = { ...DEFAULT_TIMEOUTS, ...deps.timeouts };
  const logger = createProxyLogger(deps.logger);
  const dispatcher = createUpstreamDispatcher({
    resolve: deps.resolve ?? {},
    upstreamCa: deps.upstreamCa ?? [],
    connectTimeout: timeouts.connect,
    headersTimeout: timeouts.headers,
    bodyTimeout: timeouts.bodyIdle,
  });

  const app: FastifyInstance = Fastify<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger>({
    loggerInstance: logger,
    // fastify's request logs include the URL (and so a query); the proxy logs its own summaries
    logController: new LogController({ disableRequestLogging: true }),
    requestTimeout: timeouts.clientRequest,
    connectionTimeout: 0, // an idle SSE stream is not a dead connection; upstream idle is bounded by bodyIdle
    http: {
      headersTimeout: timeouts.clientHeaders,
      maxHeaderSize: MAX_HEADER_BYTES,
      // how often Node enforces the two client time-outs (its default, 30 s, would let them overshoot)
      connectionsCheckingInterval: Math.max(100, Math.min(5_000, timeouts.clientHeaders / 4)),
    },
    return503OnClosing: true,
    forceCloseConnections: true, // closing a sandbox ends its streams now, not when they finish
    frameworkErrors(err, _request, reply) {
      sendError(reply, 400, errorType('AIRLOCK_ERR_PROXY_BAD_REQUEST'), `malformed request (${err.code})`);
    },
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));

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
