import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { RequestIntent } from '../audit/sink.js';
import { recordDenial } from './audit-record.js';
import { dialChecked } from './egress-guard.js';
import { admitForward, type ForwardContext } from './forward-context.js';
import { parseConnectTarget } from './forward-target.js';
import { errorType } from './proxy-error.js';
import { writeRawError } from './raw-reply.js';
import { classifyUpstreamError, failureReason } from './upstream-error.js';

/**
 * `CONNECT host:port`: an opaque tunnel (no TLS interception) to an allowed host without
 * credentials, after the egress guard chose and checked the address.
 */
export function createConnectHandler(ctx: ForwardContext) {
  return (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => {}); // a guest resetting its end is not a proxy error
    void tunnel(ctx, req, socket, head);
  };
}

async function tunnel(
  ctx: ForwardContext,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): Promise<void> {
  const { deps, logger } = ctx;
  const startedAt = Date.now();
  const intent: RequestIntent = {
    sandboxId: deps.sandboxId,
    method: 'CONNECT',
    host: '',
    path: '',
    startedAt,
  };
  const refuse = (status: number, type: string, message: string) => {
    recordDenial(deps.audit, logger, intent, status, type);
    writeRawError(socket, status, type, message);
  };

  const parsed = parseConnectTarget(req.url ?? '');
  if (!parsed.ok)
    return refuse(400, errorType('AIRLOCK_ERR_PROXY_BAD_REQUEST'), `bad CONNECT target: ${parsed.message}`);
  const target = parsed.target;
  intent.host = target.authority;
  const admitted = await admitForward(
    ctx,
    req,
    target,
    target.port,
    intent,
    refuse,
    (status, type, message) => writeRawError(socket, status, type, message),
  );
  if (!admitted) return;
  const { entry } = admitted;

  let upstream: Duplex;
  try {
    upstream = await dialChecked(deps.forwardProxy!, admitted.ip, target.port, ctx.timeouts.connect);
  } catch (err) {
    const failure = classifyUpstreamError(err, target.authority);
    const endedAt = Date.now();
    const status = failure.status ?? 502;
    const reason = failureReason(failure);
    entry.finish({
      decision: 'error',
      status,
      reason,
      bytesIn: 0,
      bytesOut: 0,
      durationMs: endedAt - startedAt,
      endedAt,
    });
    return writeRawError(socket, failure.status ?? 502, errorType(failure.code), failure.message);
  }

  // as in the audit log: bytesIn = what the guest sent, bytesOut = what it received
  let bytesIn = head.length;
  let bytesOut = 0;
  const ttfbMs = Date.now() - startedAt;
  upstream.on('error', () => {});
  upstream.on('data', (c: Buffer) => (bytesOut += c.length));
  socket.on('data', (c: Buffer) => (bytesIn += c.length));
  // idle tunnels are closed like idle response bodies
  (socket as Partial<Socket>).setTimeout?.(ctx.timeouts.bodyIdle, () => socket.destroy());
  let done = false;
  const close = () => {
    if (done) return;
    done = true;
    socket.destroy();
    upstream.destroy();
    const endedAt = Date.now();
    entry.finish({
      decision: 'allowed',
      status: 200,
      bytesIn,
      bytesOut,
      ttfbMs,
      durationMs: endedAt - startedAt,
      endedAt,
    });
    logger.info({ method: 'CONNECT', host: target.authority, bytesIn, bytesOut }, 'tunnel closed');
  };
  socket.on('close', close);
  upstream.on('close', close);
  socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
  if (head.length > 0) upstream.write(head);
  socket.pipe(upstream);
  upstream.pipe(socket);
}
