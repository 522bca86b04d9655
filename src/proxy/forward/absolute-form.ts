import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestIntent } from '../../audit/sink.js';
import { AirlockError } from '../../errors.js';
import { evaluate } from '../../policy/index.js';
import type { ProxyContext } from '../core/context.js';
import { runExchange } from '../core/exchange.js';
import { forwardableRequestHeaders, headerPairs } from '../core/headers.js';
import { createHttpLeg } from '../core/http-leg.js';
import { splitTarget } from '../core/query.js';
import { failOnBug, httpPort, type ReplyPort } from '../core/reply-port.js';

/**
 * Absolute-form plain HTTP (`GET http://host/path`, what clients send to `HTTP_PROXY`) to a
 * host the policy allows, at an address the egress guard checked. No credential is ever
 * added here, so nothing is scrubbed; hop-by-hop headers (Proxy-Authorization too) stay behind.
 */
export function createAbsoluteFormHandler(ctx: ProxyContext) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const port = httpPort(req, res);
    serveAbsoluteForm(ctx, port, req).catch(failOnBug(port, ctx.logger));
  };
}

async function serveAbsoluteForm(ctx: ProxyContext, port: ReplyPort, req: IncomingMessage): Promise<void> {
  const { refusals } = ctx;
  const method = req.method ?? 'GET';
  const url = req.url ?? '';
  const request: Omit<RequestIntent, 'sandboxId'> = {
    method,
    host: '',
    path: url.slice(0, 2048),
    startedAt: Date.now(),
  };
  if (!refusals.admit(port, request)) return;
  const decision = evaluate(ctx.policy, {
    kind: 'forward',
    method,
    target: url,
    hostHeader: req.headers.host,
  });
  if (!decision.allow)
    return refusals.refuse(port, new AirlockError(decision.code, decision.message), request);
  const { target } = decision;
  const [path, query] = splitTarget(target.path);
  Object.assign(request, { host: target.authority, path }, query ? { query } : {});
  let ip: string;
  try {
    ({ ip } = await ctx.egress.choose(target.host));
  } catch (err) {
    return refusals.refuse(port, err as AirlockError, request);
  }
  const headers = forwardableRequestHeaders(headerPairs(req.rawHeaders), []);
  headers.push(['host', target.port === 80 ? target.authority.replace(/:80$/, '') : target.authority]);
  const leg = createHttpLeg({
    dispatcher: ctx.forwardDispatcher,
    origin: `http://${ip.includes(':') ? `[${ip}]` : ip}:${target.port}`,
    path: target.path,
    method,
    headers,
    host: target.authority,
  });
  await runExchange(ctx, { sandboxId: ctx.deps.sandboxId, ...request }, port, leg);
}
