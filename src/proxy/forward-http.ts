import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RequestIntent, RequestOutcome } from '../audit/sink.js';
import { recordDenial } from './audit-record.js';
import { dialChecked } from './egress-guard.js';
import { admitForward, type ForwardContext } from './forward-context.js';
import { parseAbsoluteTarget } from './forward-target.js';
import { forwardableRequestHeaders, forwardableResponseHeaders, headerPairs } from './headers.js';
import { errorBody, errorType, proxyError } from './proxy-error.js';
import { splitTarget } from './query.js';
import { classifyUpstreamError, failureReason } from './upstream-error.js';

function answer(res: ServerResponse, status: number, type: string, message: string): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(errorBody(type, message));
}

/**
 * Absolute-form plain HTTP (`GET http://host/path`, what clients send to `HTTP_PROXY`) to an
 * allowed host without credentials: no credential is injected here, so nothing is scrubbed,
 * but hop-by-hop headers (Proxy-Authorization included) never travel on.
 */
export function createForwardHttpHandler(ctx: ForwardContext) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    void forwardHttp(ctx, req, res);
  };
}

async function forwardHttp(ctx: ForwardContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { deps, logger } = ctx;
  const startedAt = Date.now();
  const method = req.method ?? 'GET';
  const intent: RequestIntent = { sandboxId: deps.sandboxId, method, host: '', path: '', startedAt };
  const refuse = (status: number, type: string, message: string) => {
    recordDenial(deps.audit, logger, intent, status, type);
    answer(res, status, type, message);
  };

  const parsed = parseAbsoluteTarget(req.url ?? '');
  if (!parsed.ok) return refuse(400, errorType('AIRLOCK_ERR_PROXY_BAD_REQUEST'), parsed.message);
  const target = parsed.target;
  const [path, query] = splitTarget(target.path);
  Object.assign(intent, { host: target.authority, path }, query ? { query } : {});
  const admitted = await admitForward(ctx, req, target, 80, intent, refuse, (status, type, message) =>
    answer(res, status, type, message),
  );
  if (!admitted) return;
  const { entry } = admitted;

  // as in the audit log: bytesIn = request body from the guest, bytesOut = response body to it
  let bytesIn = 0;
  let bytesOut = 0;
  let ttfbMs: number | undefined;
  let finished = false;
  const finish = (outcome: Pick<RequestOutcome, 'decision' | 'status' | 'reason'>) => {
    if (finished) return;
    finished = true;
    const endedAt = Date.now();
    const full: RequestOutcome = { ...outcome, bytesIn, bytesOut, durationMs: endedAt - startedAt, endedAt };
    if (ttfbMs !== undefined) full.ttfbMs = ttfbMs;
    entry.finish(full);
  };
  const fail = (err: unknown) => {
    const failure = classifyUpstreamError(err, target.authority);
    finish({ decision: 'error', status: failure.status ?? 502, reason: failureReason(failure) });
    answer(res, failure.status ?? 502, errorType(failure.code), failure.message);
  };

  const headers = forwardableRequestHeaders(headerPairs(req.rawHeaders), []);
  headers.push(['host', target.port === 80 ? target.host : target.authority]);
  const upstreamReq = httpRequest({
    method,
    path: target.path,
    headers: headers.flat(),
    // no agent: every request dials the address the guard checked, never a fresh DNS answer
    createConnection: (_options, done) => {
      dialChecked(deps.forwardProxy!, admitted.ip, target.port, ctx.timeouts.connect).then(
        (socket) => done(null, socket),
        (err: Error) => done(err, undefined as unknown as Duplex),
      );
      return undefined;
    },
  });
  const headersTimer = setTimeout(() => {
    upstreamReq.destroy(Object.assign(new Error('headers timeout'), { code: 'UND_ERR_HEADERS_TIMEOUT' }));
  }, ctx.timeouts.headers);
  upstreamReq.on('error', (err) => {
    clearTimeout(headersTimer);
    fail(err);
  });
  upstreamReq.on('response', (upstreamRes) => {
    clearTimeout(headersTimer);
    ttfbMs = Date.now() - startedAt;
    upstreamRes.on('data', (c: Buffer) => (bytesOut += c.length));
    upstreamRes.setTimeout(ctx.timeouts.bodyIdle, () =>
      upstreamRes.destroy(proxyError('AIRLOCK_ERR_PROXY_TIMEOUT', 504, 'idle')),
    );
    res.writeHead(upstreamRes.statusCode ?? 502, forwardableResponseHeaders(upstreamRes.headers, []));
    upstreamRes.pipe(res);
    res.on('finish', () => finish({ decision: 'allowed', status: upstreamRes.statusCode ?? 502 }));
    res.on('close', () => {
      upstreamRes.destroy();
      finish({ decision: 'error', status: upstreamRes.statusCode ?? 502, reason: 'stream ended early' });
    });
  });
  req.on('data', (c: Buffer) => (bytesIn += c.length));
  req.pipe(upstreamReq);
}
