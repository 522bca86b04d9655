import { EventEmitter } from 'node:events';
import type { OutgoingHttpHeaders } from 'node:http';
import { finished, pipeline, Transform, type Readable } from 'node:stream';
import type { ProxyLogger } from './logger.js';
import type { AuditEntry, AuditSink, LlmUsage, RequestIntent, RequestOutcome } from '../../audit/sink.js';
import { AirlockError, errorType } from '../../errors.js';
import { errorAnswer } from './answer.js';
import { bodyBytesPassed } from './body-garbage.js';
import { chain } from './chain.js';
import type { ReplyPort } from './reply-port.js';
import { classifyUpstreamError } from './upstream-error.js';

/** The upstream's answer: a response head and body, or an open tunnel (200, no headers). */
export interface UpstreamAnswer {
  status: number;
  headers: OutgoingHttpHeaders;
  /** the upstream's bytes */
  body: Readable;
  /** what the bytes pass through on their way to the guest, in order (decoding, scrubbing; omitted = none) */
  through?: Transform[];
  /** LLM usage seen in the body, read once it has ended (omitted = none) */
  usage?(): LlmUsage | undefined;
  /**
   * for a small body (its length known and at most SMALL_BODY_BYTES): what the guest gets of it
   * (scrubbed, usage read), done on the whole body at once instead of `through`; the exchange
   * then answers with the exact length in one write (omitted = stream the body through `through`)
   */
  whole?: (body: Buffer) => Buffer;
}

/** The largest body an exchange holds whole to answer it in one write, in bytes. */
export const SMALL_BODY_BYTES = 64 * 1024;

/** The upstream side of an exchange: an HTTP request, or a TCP connection for a tunnel. */
export interface UpstreamLeg {
  /** host[:port] for messages */
  host: string;
  /**
   * sends the request with `body` (the guest's bytes, counted; null = none) and resolves once
   * the upstream answered; `abort` emits 'abort' if the guest goes away (an emitter, which
   * upstream-response.ts listens to: an AbortSignal per request costs more than the rest of
   * the bookkeeping)
   */
  open(body: Readable | null, abort: EventEmitter): Promise<UpstreamAnswer>;
}

export interface ExchangeDeps {
  audit: AuditSink;
  logger: ProxyLogger;
}

/**
 * Told once how an exchange ended, with the usage read from its answer (undefined when none
 * was, or it failed); returns a reason to record when the answer was cut short (a budget).
 */
export type SettleUsage = (usage: LlmUsage | undefined) => string | undefined;

/** Counts the bytes that pass, holding none. */
export function counter(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      onBytes(chunk.length);
      callback(null, chunk);
    },
  });
}

/**
 * Commits the audit intent before anything leaves; when it cannot be written, the guest is
 * answered 503 (AIRLOCK_ERR_AUDIT_WRITE) and undefined returned: nothing may go upstream.
 */
export async function commitIntent(
  deps: ExchangeDeps,
  intent: RequestIntent,
  port: ReplyPort,
): Promise<AuditEntry | undefined> {
  try {
    return await deps.audit.intent(intent);
  } catch (err) {
    deps.logger.error(
      { err, service: intent.service, host: intent.host },
      'audit intent failed; nothing sent',
    );
    port.fail(
      errorAnswer(
        new AirlockError(
          'AIRLOCK_ERR_AUDIT_WRITE',
          'the audit log could not record this request, so it was not sent',
        ),
      ),
    );
    return undefined;
  }
}

/** What an exchange has seen so far. */
export interface ExchangeCounters {
  bytesIn: number;
  bytesOut: number;
  /** ms from start to the upstream's answer (undefined = none came) */
  ttfbMs: number | undefined;
  /** the status the guest was given (0 = none yet) */
  status: number;
}

/** One exchange's counters and its one outcome row. */
export interface ExchangeRecord {
  seen: ExchangeCounters;
  /** settles usage, writes the outcome row and the log line: once (later calls do nothing) */
  outcome: (decision: RequestOutcome['decision'], status: number, reason?: string, usage?: LlmUsage) => void;
}

/** The outcome side of a committed intent, for every transport (runExchange, a WebSocket session). */
export function recordExchange(
  deps: ExchangeDeps,
  intent: RequestIntent,
  entry: AuditEntry,
  settle?: SettleUsage,
): ExchangeRecord {
  const { logger } = deps;
  const seen: ExchangeCounters = {
    bytesIn: 0,
    bytesOut: 0,
    ttfbMs: undefined,
    status: 0,
  };
  let recorded = false;
  const finish: ExchangeRecord['outcome'] = (decision, status, reason, usage) => {
    if (recorded) return;
    recorded = true;
    if (settle) {
      try {
        const cut = settle(usage); // always: a failed exchange frees what it held too
        reason ??= cut;
      } catch (err) {
        logger.error({ err, service: intent.service }, 'usage could not be settled');
      }
    }
    const endedAt = Date.now();
    const { bytesIn, bytesOut, ttfbMs } = seen;
    const outcome: RequestOutcome = {
      decision,
      status,
      bytesIn,
      bytesOut,
      durationMs: endedAt - intent.startedAt,
      endedAt,
    };
    if (reason !== undefined) outcome.reason = reason;
    if (ttfbMs !== undefined) outcome.ttfbMs = ttfbMs;
    if (usage) outcome.usage = usage;
    try {
      entry.finish(outcome);
    } catch (err) {
      logger.error({ err, service: intent.service }, 'audit outcome could not be recorded');
    }
    // (the line's fields are gathered only when it is written: the default level is warn)
    if (!logger.isLevelEnabled('info')) return;
    logger.info(
      {
        service: intent.service,
        method: intent.method,
        host: intent.host,
        status,
        bytesIn,
        bytesOut,
        ms: outcome.durationMs,
      },
      reason ?? 'forwarded',
    );
  };

  return { seen, outcome: finish };
}

/**
 * The one way a request goes out, for the reverse route, absolute-form HTTP and CONNECT
 * alike: (admitted by the caller) → audit intent, committed before anything leaves → open
 * the upstream leg → stream both ways, backpressure end to end, counting bytes → audit
 * outcome, once. As in the audit log, `bytesIn` is what the guest sent and `bytesOut` what it
 * received. Failures are answered through the port in airlock's one voice.
 */
export async function runExchange(
  deps: ExchangeDeps,
  intent: RequestIntent,
  port: ReplyPort,
  leg: UpstreamLeg,
  settle?: SettleUsage,
): Promise<void> {
  const entry = await commitIntent(deps, intent, port);
  if (!entry) return void settle?.(undefined);

  const { seen, outcome: finish } = recordExchange(deps, intent, entry, settle);

  // the guest went away: stop the upstream too (before its answer; after it, the pipeline does)
  const abort = new EventEmitter();
  let guestGone = false;
  port.onClose(() => {
    guestGone = true;
    abort.emit('abort');
    finish('error', seen.status, 'guest disconnected');
  });

  const body: Readable | null = port.body
    ? pipeline(
        port.body,
        counter((n) => {
          seen.bytesIn += n;
          bodyBytesPassed(n);
        }),
        () => {},
      )
    : null;

  /** the upstream failed before the guest's answer began: airlock answers for it */
  const upstreamFailed = (err: unknown) => {
    const failure = classifyUpstreamError(err, leg.host);
    finish('error', failure.status ?? 502, errorType(failure.code));
    port.fail(errorAnswer(failure));
  };
  let answer: UpstreamAnswer;
  try {
    answer = await leg.open(body, abort);
  } catch (err) {
    if (!guestGone) upstreamFailed(err);
    return;
  }
  if (guestGone) return void answer.body.destroy();
  seen.ttfbMs = Date.now() - intent.startedAt;
  seen.status = answer.status;

  const complete = () => {
    let usage: LlmUsage | undefined;
    try {
      usage = answer.usage?.();
    } catch {
      usage = undefined; // a usage parser must never break the exchange it watches
    }
    finish('allowed', answer.status, undefined, usage);
  };
  const { whole } = answer;
  if (whole && port.kind === 'http') {
    // the whole answer in one write: no streams to pass through, no chunked framing, no
    // second write for its end
    const chunks: Buffer[] = [];
    port.onClose(() => answer.body.destroy());
    answer.body.on('data', (chunk: Buffer) => chunks.push(chunk));
    answer.body.once('error', (err) => {
      if (!guestGone) upstreamFailed(err);
    });
    answer.body.once('end', () => {
      if (guestGone) return;
      const bytes = whole(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      seen.bytesOut = bytes.length;
      const sink = port.begin(answer.status, { ...answer.headers, 'content-length': bytes.length });
      sink.end(bytes, (error?: Error | null) =>
        error ? finish('error', answer.status, 'guest disconnected') : complete(),
      );
    });
    return;
  }

  // who failed first: the upstream (or what its bytes pass through), or the guest leaving; the
  // other side's errors follow from the pipeline tearing everything down
  let failed: { side: 'upstream'; err: unknown } | { side: 'guest' } | undefined;
  for (const stream of [answer.body, ...(answer.through ?? [])]) {
    stream.once('error', (err) => (failed ??= { side: 'upstream', err }));
  }
  // one pipeline per direction, and no stream more than needed: Node's pipeline makes an error
  // object for each stream it tears down; the bytes to the guest are counted as they pass by
  const streams = [answer.body, ...(answer.through ?? [])];
  streams.at(-1)!.on('data', (chunk: Buffer) => {
    seen.bytesOut += chunk.length;
    bodyBytesPassed(chunk.length);
  });
  const sink = port.begin(answer.status, answer.headers);
  sink.once('close', () => {
    if (!sink.writableFinished) failed ??= { side: 'guest' };
  });
  const ended = (err?: Error | null) => {
    if (failed?.side === 'upstream') {
      finish('error', answer.status, errorType(classifyUpstreamError(failed.err, leg.host).code));
    } else if (port.kind === 'http') {
      if (err) finish('error', answer.status, 'guest disconnected');
      else complete();
    } else if (!failed && body && !body.readableEnded && !body.destroyed) {
      // a tunnel ends when both halves have: wait for what the guest still sends
      finished(body, complete);
    } else {
      complete(); // a tunnel the guest hung up on ended normally
    }
  };
  // a tunnel keeps stream.pipeline's teardown of both sockets; an HTTP answer, the hot path, is chained
  if (port.kind === 'http') chain(streams, sink, ended);
  else pipeline([...streams, sink], ended);
}
