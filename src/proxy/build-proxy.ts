import { METHODS, type IncomingMessage, type ServerResponse } from 'node:http';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RawServerDefault,
} from 'fastify';
import { AirlockError } from '../errors.js';
import { createClientErrorHandler } from './core/client-error.js';
import type { ProxyContext } from './core/context.js';
import { createProxyLogger } from './core/logger.js';
import { createProxyServer } from './core/proxy-server.js';
import { splitTarget } from './core/query.js';
import { createRefusals } from './core/refusals.js';
import { failOnBug, httpPort } from './core/reply-port.js';
import { DEFAULT_TIMEOUTS, withDefaults } from './core/defaults.js';
import { createAbsoluteFormHandler } from './forward/absolute-form.js';
import { createConnectHandler } from './forward/connect.js';
import { createEgressGuard } from './forward/egress-guard.js';
import { createForwardDispatcher } from './forward/forward-dispatcher.js';
import { createReverseRoute } from './reverse/reverse-route.js';
import { createServiceDispatcher } from './reverse/service-dispatcher.js';
import type { ProxyDeps } from './types.js';

/**
 * One sandbox's proxy as a fastify app, not yet listening (tests use `inject`; `startProxy`
 * binds it to the gateway). The reverse route is a fastify route; the forward proxy
 * (absolute-form and CONNECT) sits beside it on the same server. Every transport hands its
 * reply port to the one exchange (core/exchange.ts), and every refusal goes through the one
 * refusal path (core/refusals.ts), parser-level ones included. Bodies are never parsed or
 * buffered: handlers take over the raw request and response.
 */
export function buildProxy(deps: ProxyDeps): FastifyInstance {
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
  const reverse = createReverseRoute(ctx);
  /** Answers a request fastify itself could not route or read, through the one refusal path. */
  const refuseRaw = (request: FastifyRequest, reply: FastifyReply, error: AirlockError) => {
    reply.hijack();
    const [path, query] = splitTarget(request.raw.url ?? '');
    const refused = { method: request.raw.method ?? '-', host: '', path, startedAt: Date.now() };
    refusals.refuse(httpPort(request.raw, reply.raw), error, query ? { ...refused, query } : refused);
  };

  const app: FastifyInstance = Fastify<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger>({
    loggerInstance: logger,
    // fastify's request logs include the URL (and so a query); the proxy logs its own summaries
    logController: new LogController({ disableRequestLogging: true }),
    serverFactory: (handler) =>
      createProxyServer({
        timeouts,
        reverse: handler,
        forward: createAbsoluteFormHandler(ctx),
        connect: createConnectHandler(ctx),
      }),
    clientErrorHandler: createClientErrorHandler(refusals),
    forceCloseConnections: true, // closing a sandbox ends its streams now, not when they finish
    frameworkErrors(err, request, reply) {
      refuseRaw(
        request,
        reply,
        new AirlockError('AIRLOCK_ERR_BAD_REQUEST', `malformed request (${err.code})`),
      );
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
  app.all('/proxy/*', (request, reply) => {
    reply.hijack();
    const port = httpPort(request.raw, reply.raw);
    reverse(port, request.raw).catch(failOnBug(port, logger));
  });
  app.setNotFoundHandler((request, reply) => {
    refuseRaw(
      request,
      reply,
      new AirlockError(
        'AIRLOCK_ERR_UNKNOWN_SERVICE',
        'no such route; use the base-URL variables airlock set (/proxy/<service>/…)',
      ),
    );
  });
  app.setErrorHandler((err, request, reply) => {
    logger.error({ err }, 'internal proxy error');
    refuseRaw(request, reply, new AirlockError('AIRLOCK_ERR_INTERNAL', 'internal proxy error'));
  });
  app.addHook('onClose', async () => {
    refusals.flush();
    await Promise.all([ctx.serviceDispatcher.close(), ctx.forwardDispatcher.close()]);
  });
  return app;
}
