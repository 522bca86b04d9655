import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream';
import type { RequestIntent } from '../../audit/sink.js';
import { AirlockError } from '../../errors.js';
import { evaluate } from '../../policy/index.js';
import type { CheckedAddress, ProxyContext } from '../core/context.js';
import { runExchange, type UpstreamLeg } from '../core/exchange.js';
import { failOnBug, socketPort, type ReplyPort } from '../core/reply-port.js';

/**
 * `CONNECT host:port`: to a host of a granted credential, a tunnel airlock terminates (see
 * intercept/); to any other host the policy allows, an opaque tunnel to an address the egress
 * guard checked. A refusal is an HTTP answer with airlock's JSON body,
 * which `curl -v` shows.
 */
export function createConnectHandler(ctx: ProxyContext) {
  return (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const port = socketPort(socket, head);
    serveConnect(ctx, port, req, socket).catch(failOnBug(port, ctx.logger));
  };
}

/** The tunnel's far end: a checked TCP connection, idle-limited like a response body. */
function tunnelLeg(ctx: ProxyContext, address: CheckedAddress, port: number, authority: string): UpstreamLeg {
  return {
    host: authority,
    async open(body) {
      const upstream = await ctx.egress.dial(address, port);
      upstream.setTimeout(ctx.timeouts.bodyIdle, () => upstream.destroy());
      if (body) pipeline(body, upstream, () => {});
      return { status: 200, headers: {}, body: upstream };
    },
  };
}

async function serveConnect(
  ctx: ProxyContext,
  port: ReplyPort,
  req: IncomingMessage,
  socket: Duplex,
): Promise<void> {
  const { refusals } = ctx;
  const url = req.url ?? '';
  const request: Omit<RequestIntent, 'sandboxId'> = {
    method: 'CONNECT',
    host: url.slice(0, 300),
    path: '',
    startedAt: Date.now(),
  };
  if (!refusals.admit(port, request)) return;
  const decision = evaluate(ctx.policy, {
    kind: 'forward',
    method: 'CONNECT',
    target: url,
    hostHeader: req.headers.host,
  });
  if (!decision.allow)
    return refusals.refuse(port, new AirlockError(decision.code, decision.message), request);
  const { target } = decision;
  request.host = target.authority;
  (socket as Partial<Socket>).setTimeout?.(ctx.timeouts.bodyIdle, () => socket.destroy());
  const intercept = ctx.deps.intercept;
  if (decision.service !== undefined || intercept?.scope === 'all') {
    if (ctx.terminator && decision.service !== undefined) {
      return ctx.terminator.accept(socket, { target, service: decision.service });
    }
    if (ctx.terminator && target.port === 443) {
      // the address is checked now too, so a host that resolves inward is refused as a tunnel would be
      try {
        await ctx.egress.choose(target.host);
      } catch (err) {
        return refusals.refuse(port, err as AirlockError, request);
      }
      return ctx.terminator.accept(socket, { target });
    }
    if (decision.service !== undefined) {
      const granted = ctx.policy.services.get(decision.service)?.service.baseUrlVariables ?? [];
      const vars = granted.map((v) => `$${v.name}`).join(', ');
      const message = `${target.host} holds this sandbox's "${decision.service}" credential and this proxy does not intercept TLS; use the base URL${vars ? ` (${vars})` : ''}, i.e. /proxy/${decision.service}/…`;
      return refusals.refuse(port, new AirlockError('AIRLOCK_ERR_USE_BASE_URL', message), request);
    }
  }
  let address: CheckedAddress;
  try {
    address = await ctx.egress.choose(target.host);
  } catch (err) {
    return refusals.refuse(port, err as AirlockError, request);
  }
  await runExchange(
    ctx,
    { sandboxId: ctx.deps.sandboxId, ...request },
    port,
    tunnelLeg(ctx, address, target.port, target.authority),
  );
}
