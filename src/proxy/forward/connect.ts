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
 * `CONNECT host:port`: an opaque tunnel (no TLS interception) to a host the policy allows, at
 * an address the egress guard checked. A refusal is an HTTP answer with airlock's JSON body,
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
  let address: CheckedAddress;
  try {
    address = await ctx.egress.choose(target.host);
  } catch (err) {
    return refusals.refuse(port, err as AirlockError, request);
  }
  (socket as Partial<Socket>).setTimeout?.(ctx.timeouts.bodyIdle, () => socket.destroy());
  await runExchange(
    ctx,
    { sandboxId: ctx.deps.sandboxId, ...request },
    port,
    tunnelLeg(ctx, address, target.port, target.authority),
  );
}
