import type { IncomingMessage, ServerResponse } from 'node:http';
import { AirlockError } from '../../errors.js';
import { evaluate, type ForwardTarget } from '../../policy/index.js';
import type { ProxyContext } from '../core/context.js';
import { runExchange } from '../core/exchange.js';
import { forwardableRequestHeaders, headerPairs } from '../core/headers.js';
import { createHttpLeg } from '../core/http-leg.js';
import { splitTarget } from '../core/query.js';
import type { RefusedRequest } from '../core/refusals.js';
import { failOnBug, httpPort, type ReplyPort } from '../core/reply-port.js';
import type { ServiceExchange } from '../reverse/reverse-route.js';
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
    const url = req.url ?? '';
    const tunnel = terminator().targetOf(req.socket);
    const [path, query] = splitTarget(url);
    const request = {
      method: req.method ?? '-',
      host: tunnel?.target.authority ?? '',
      path,
      startedAt: Date.now(),
    };
    const refuse = (message: string) =>
      ctx.refusals.refuse(
        port,
        new AirlockError('AIRLOCK_ERR_BAD_REQUEST', message),
        query ? { ...request, query } : request,
      );
    if (!tunnel) return refuse('not an intercepted tunnel');
    if (!url.startsWith('/')) return refuse('inside a tunnel, requests must be origin-form (/path)');
    if (tunnel.service === undefined) {
      inspect(ctx, port, req, tunnel.target, query ? { ...request, query } : request).catch(
        failOnBug(port, ctx.logger),
      );
      return;
    }
    const service =
      tunnel.service === undefined ? undefined : ctx.deps.services.find((s) => s.name === tunnel.service);
    if (!service) return refuse(`no service holds ${tunnel.target.host} any more`);
    const base = new URL(service.upstream).pathname.replace(/\/$/, '');
    if (base !== '' && url !== base && !url.startsWith(`${base}/`) && !url.startsWith(`${base}?`)) {
      const denied = new AirlockError(
        'AIRLOCK_ERR_POLICY_DENIED',
        `${path} is outside the base path ${base} of service "${service.name}", which its credential covers`,
      );
      return ctx.refusals.refuse(port, denied, request);
    }
    const upstream = new URL(`https://${tunnel.target.authority}${base}`);
    exchange()
      .serveService(port, req, { service: service.name, rawTarget: url.slice(base.length), upstream })
      .catch(failOnBug(port, ctx.logger));
  };
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
