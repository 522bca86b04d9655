import type { IncomingMessage } from 'node:http';
import { pipeline, Transform, type Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { AuditEntry, RequestOutcome } from '../audit/sink.js';
import type { Service } from '../catalogue/service.js';
import { createBodyDecoder } from './decode-body.js';
import { forwardableResponseHeaders, type HeaderPairs, type ResponseHeaders } from './headers.js';
import { proxyError, sendAirlockError } from './proxy-error.js';
import { createSecretScrubber, scrubHeaderValue, type SecretReplacement } from './scrubber.js';
import type { UsageReader } from './types.js';
import { classifyUpstreamError, failureReason } from './upstream-error.js';

/** What one forwarded exchange needs. */
export interface ForwardOptions {
  dispatcher: Dispatcher;
  /** every secret of the sandbox and its placeholder, scrubbed from responses */
  replacements: readonly SecretReplacement[];
  usageTap: ((service: Service, headers: ResponseHeaders) => UsageReader | undefined) | undefined;
  logger: Logger;
  service: Service;
  /** upstream origin, `https://host[:port]` */
  origin: string;
  /** path and query sent verbatim (no URL re-parsing, which would resolve dot segments behind the policy's back) */
  path: string;
  method: string;
  headers: HeaderPairs;
  /** the guest's request (its body is streamed upstream when it has one) */
  incoming: IncomingMessage;
  entry: AuditEntry;
  /** epoch ms the request arrived */
  startedAt: number;
}

/** Statuses and methods whose responses have no body, so Content-Length keeps its meaning. */
function hasNoBody(method: string, status: number): boolean {
  return method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);
}

function requestHasBody(incoming: IncomingMessage): boolean {
  const length = incoming.headers['content-length'];
  return incoming.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Counts bytes and feeds the usage reader, without holding any chunk. */
function createTap(onChunk: (chunk: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      onChunk(chunk);
      callback(null, chunk);
    },
  });
}

/**
 * Sends the request upstream with both bodies streamed (backpressure end to end, nothing
 * buffered), answers the guest, and records the outcome once when the exchange ends.
 * Redirects are never followed: undici's `request` does not follow them, so a 3xx goes back
 * to the guest as is and the credential never reaches another origin.
 */
export async function forward(options: ForwardOptions, reply: FastifyReply): Promise<void> {
  const { incoming, entry, startedAt, logger, service } = options;
  const host = new URL(options.origin).host;
  // as in the audit log (sql/002_audit.sql): bytesIn = request body bytes from the guest,
  // bytesOut = response body bytes to the guest
  let bytesIn = 0;
  let bytesOut = 0;
  let ttfbMs: number | undefined = undefined;
  let finished = false;
  const finish = (
    outcome: Omit<RequestOutcome, 'bytesIn' | 'bytesOut' | 'durationMs' | 'endedAt' | 'ttfbMs'>,
  ) => {
    if (finished) return;
    finished = true;
    const endedAt = Date.now();
    const full: RequestOutcome = { ...outcome, bytesIn, bytesOut, durationMs: endedAt - startedAt, endedAt };
    if (ttfbMs !== undefined) full.ttfbMs = ttfbMs;
    try {
      entry.finish(full);
    } catch (err) {
      logger.error({ err, service: service.name }, 'audit outcome could not be recorded');
    }
    logger.info(
      {
        service: service.name,
        method: options.method,
        status: outcome.status,
        bytesIn,
        bytesOut,
        ms: full.durationMs,
      },
      outcome.reason ?? 'forwarded',
    );
  };

  const controller = new AbortController();
  let upstreamError: unknown;
  // the response ended early: the upstream failed mid-body, or the guest went away (then stop the upstream too)
  reply.raw.on('close', () => {
    if (reply.raw.writableFinished) return;
    controller.abort();
    const reason =
      upstreamError === undefined
        ? 'guest disconnected'
        : failureReason(classifyUpstreamError(upstreamError, host));
    finish({ decision: 'error', status: reply.raw.statusCode, reason });
  });

  let body: Readable | undefined;
  if (requestHasBody(incoming)) {
    const counter = createTap((chunk) => (bytesIn += chunk.length));
    body = pipeline(incoming, counter, () => {});
  }

  let response: Dispatcher.ResponseData;
  try {
    response = await options.dispatcher.request({
      origin: options.origin,
      path: options.path,
      method: options.method,
      headers: options.headers.flat(),
      body: body ?? null,
      signal: controller.signal,
    });
  } catch (err) {
    if (controller.signal.aborted) return;
    const failure = classifyUpstreamError(err, host);
    finish({ decision: 'error', status: failure.status ?? 502, reason: failureReason(failure) });
    sendAirlockError(reply, failure);
    return;
  }
  ttfbMs = Date.now() - startedAt;

  const decoders = createBodyDecoder(response.headers['content-encoding']);
  if (decoders === null) {
    response.body.destroy();
    const failure = proxyError(
      'AIRLOCK_ERR_PROXY_UPSTREAM',
      502,
      `upstream ${host} answered with a content-encoding the proxy cannot inspect`,
    );
    finish({ decision: 'error', status: 502, reason: failureReason(failure) });
    sendAirlockError(reply, failure);
    return;
  }

  const noBody = hasNoBody(options.method, response.statusCode);
  // the scrubber may change the body's length, and decoding always does
  const drop = [...(noBody ? [] : ['content-length']), ...(decoders ? ['content-encoding'] : [])];
  const headers = forwardableResponseHeaders(response.headers, drop);
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) headers[name] = scrubHeaderValue(value, options.replacements);
  }

  let usage: UsageReader | undefined;
  try {
    usage = options.usageTap?.(service, headers);
  } catch (err) {
    logger.error({ err, service: service.name }, 'usage tap failed; usage not recorded');
  }
  const tap = createTap((chunk) => {
    bytesOut += chunk.length;
    try {
      usage?.write(chunk);
    } catch {
      // a usage parser must never break the stream it watches
    }
  });
  for (const s of [response.body, ...(decoders ?? [])]) s.on('error', (err) => (upstreamError ??= err));
  // errors are handled by each stream's destruction; `tap`, the last stream, is what the guest reads
  pipeline([response.body, ...(decoders ?? []), createSecretScrubber(options.replacements), tap], () => {});

  reply.raw.on('finish', () => {
    let parsed;
    try {
      parsed = usage?.end();
    } catch {
      parsed = undefined;
    }
    const outcome: Parameters<typeof finish>[0] = { decision: 'allowed', status: response.statusCode };
    if (parsed) outcome.usage = parsed;
    finish(outcome);
  });
  void reply.code(response.statusCode).headers(headers).send(tap);
}
