import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { AirlockError } from '../../errors.js';
import { evaluate, type ForwardTarget } from '../../policy/index.js';
import type { ProxyContext } from '../core/context.js';
import { runExchange } from '../core/exchange.js';
import { forwardableRequestHeaders, headerPairs } from '../core/headers.js';
import { createHttpLeg } from '../core/http-leg.js';
import { splitTarget } from '../core/query.js';
import type { RefusedRequest } from '../core/refusals.js';
import { failOnBug, httpPort, socketPort, type ReplyPort } from '../core/reply-port.js';
import type { ServiceExchange, ServiceRoute } from '../reverse/reverse-route.js';
import { handleWebSocketUpgrade } from '../reverse/websocket-upgrade.js';
import type { TlsTerminator } from './tls-terminator.js';

/**
 * Serves one request inside an intercepted tunnel. The upstream is the tunnel's verified
 * CONNECT target (`https://host[:port]` plus the service's base path), never the Host header
 * inside; the request then takes the reverse route's exact path (`serveService`): policy and
 * endpoint rules on the real method and path, the guest's credential checked to be the
 * placeholder or absent, the real one injected, the answer scrubbed, usage, budgets, audit.
 */
export function createInterceptedHandler(
  ctx: ProxyContext,
  terminator: () => TlsTerminator,
  exchange: () => ServiceExchange,
) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const port = httpPort(req, res);
    const found = tunnelRoute(ctx, terminator(), req);
    if ('refused' in found) return ctx.refusals.refuse(port, found.refused, found.request);
    if ('inspect' in found) {
      inspect(ctx, port, req, found.inspect, found.request).catch(failOnBug(port, ctx.logger));
      return;
    }
    exchange().serveService(port, req, found.route).catch(failOnBug(port, ctx.logger));
  };
}

/**
 * A WebSocket upgrade inside an intercepted tunnel to a credential's host: the same handler
 * as on the reverse route, sent to the tunnel's verified target. Tunnels `--intercept all`
 * opened to other hosts relay no upgrades (nothing there would check or audit the session).
 */
export function createInterceptedUpgradeHandler(ctx: ProxyContext, terminator: () => TlsTerminator) {
  return (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const found = tunnelRoute(ctx, terminator(), req);
    if ('route' in found) return handleWebSocketUpgrade(ctx, req, socket, head, found.route);
    const refused =
      'refused' in found
        ? found.refused
        : new AirlockError(
            'AIRLOCK_ERR_BAD_REQUEST',
            'upgrades inside a tunnel are relayed only to a host of one of the sandbox credentials',
          );
    ctx.refusals.refuse(socketPort(socket, head), refused, found.request);
  };
}

/** Where a request inside a tunnel goes: a service route, an inspected host, or a refusal. */
type TunnelRoute = { request: RefusedRequest } & (
  { route: ServiceRoute } | { inspect: ForwardTarget } | { refused: AirlockError }
);

/**
 * The upstream is the tunnel's verified CONNECT target (`https://host[:port]` plus the
 * service's base path), never the Host header inside.
 */
function tunnelRoute(ctx: ProxyContext, terminator: TlsTerminator, req: IncomingMessage): TunnelRoute {
  const url = req.url ?? '';
  const tunnel = terminator.targetOf(req.socket);
  const [path, query] = splitTarget(url);
  const request: RefusedRequest = {
    method: req.method ?? '-',
    host: tunnel?.target.authority ?? '',
    path,
    startedAt: Date.now(),
  };
  if (query) request.query = query;
  const bad = (message: string) => ({
    request,
    refused: new AirlockError('AIRLOCK_ERR_BAD_REQUEST', message),
  });
  if (!tunnel) return bad('not an intercepted tunnel');
  if (!url.startsWith('/')) return bad('inside a tunnel, requests must be origin-form (/path)');
  if (tunnel.service === undefined) return { request, inspect: tunnel.target };
  const service = ctx.deps.services.find((s) => s.name === tunnel.service);
  if (!service) return bad(`no service holds ${tunnel.target.host} any more`);
  const base = new URL(service.upstream).pathname.replace(/\/$/, '');
  if (base !== '' && url !== base && !url.startsWith(`${base}/`) && !url.startsWith(`${base}?`)) {
    const denied = new AirlockError(
      'AIRLOCK_ERR_POLICY_DENIED',
      `${path} is outside the base path ${base} of service "${service.name}", which its credential covers`,
    );
    return { request, refused: denied };
  }
  const upstream = new URL(`https://${tunnel.target.authority}${base}`);
  return { request, route: { service: service.name, rawTarget: url.slice(base.length), upstream } };
}

/**
 * A request inside a tunnel `--intercept all` opened to a host without a credential: the
 * CONNECT is decided again (a live change applies to each request), nothing is injected or
 * scrubbed, and the request goes to the verified target at an address the egress guard
 * checked, with its method and path on the audit row.
 */
async function inspect(
  ctx: ProxyContext,
  port: ReplyPort,
  req: IncomingMessage,
  target: ForwardTarget,
  request: RefusedRequest,
): Promise<void> {
  const { refusals } = ctx;
  if (!refusals.admit(port, request)) return;
  const decision = evaluate(ctx.policy, { kind: 'forward', method: 'CONNECT', target: target.authority });
  if (!decision.allow)
    return refusals.refuse(port, new AirlockError(decision.code, decision.message), request);
  const headers = forwardableRequestHeaders(headerPairs(req.rawHeaders), []);
  headers.push(['host', target.port === 443 ? target.authority.replace(/:443$/, '') : target.authority]);
  const leg = createHttpLeg({
    dispatcher: ctx.inspectDispatcher!,
    origin: `https://${target.authority}`,
    path: req.url ?? '/',
    method: req.method ?? 'GET',
    headers,
    host: target.authority,
  });
  await runExchange(ctx, { sandboxId: ctx.deps.sandboxId, ...request }, port, leg);
}
