import { PassThrough, Transform, type Readable } from 'node:stream';
import type { LlmUsage } from '../../audit/sink.js';
import type { BudgetLedger, BudgetRefusal, Reservation } from '../../budget/index.js';
import { AirlockError, errorType } from '../../errors.js';
import type { RefusedRequest, Refusals } from '../core/refusals.js';
import type { ReplyPort } from '../core/reply-port.js';
import type { UsageReader } from '../types.js';

/** The most request body read before a budgeted call goes out, to find its max_tokens (bytes). */
export const ASK_BYTES = 1024 * 1024;

/** A request body's first bytes, and the whole body again for the upstream. */
export interface PeekedBody {
  /** the first bytes (all of them when `complete`) */
  head: Buffer;
  complete: boolean;
  /** what goes upstream: the bytes read, then the rest as it comes */
  body: Readable;
}

/**
 * Reads up to `max` bytes of a request body, so a budgeted call's `max_tokens` is known before
 * it goes out. LLM requests are small JSON; a bigger one is sent on unread (the call then
 * holds the default reservation).
 */
export function peekBody(body: Readable, max = ASK_BYTES): Promise<PeekedBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (complete: boolean) => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', reject);
      body.pause();
      const replay = new PassThrough();
      for (const c of chunks) replay.write(c);
      if (complete) replay.end();
      else body.pipe(replay);
      resolve({ head: Buffer.concat(chunks), complete, body: replay });
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= max) done(false);
    };
    const onEnd = () => done(true);
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', reject);
  });
}

/** One budgeted call's answer, watched: usage as it streams, the cut, the settlement. */
export interface BudgetMeter {
  /** for the usage tap: after each SSE event; false = the budget cannot cover the stream any more */
  onEvent: (usage: LlmUsage) => boolean;
  /** passes the answer's bytes to the usage reader; once it stops the stream, ends it with a final event */
  stream(usage: UsageReader): Transform;
  /** the upstream body, ended once the guest's answer is complete if the stream was cut */
  upstream: Readable | undefined;
  /** settles the reservation; a reason to record when the stream was cut */
  settle: (usage: LlmUsage | undefined) => string | undefined;
}

/**
 * Watches a budgeted call. While an SSE answer streams, each event grows the reservation to
 * the usage so far: the provider's counts where it reports them, and at least one output token
 * per event (most providers report output only at the end). When the budget cannot cover
 * more, the stream ends at that event's boundary with a final `error` event saying why, and
 * the upstream is let go. Afterwards the reservation settles to the real usage, or the
 * estimate where the provider reported none.
 */
export function createBudgetMeter(ledger: BudgetLedger, reservation: Reservation): BudgetMeter {
  let events = 0;
  let seen: LlmUsage = {};
  let cut: string | undefined;
  let settled = false;
  const estimate = () => ({
    input: seen.inputTokens ?? 0,
    output: Math.max(seen.outputTokens ?? 0, events),
  });
  const meter: BudgetMeter = {
    upstream: undefined,
    onEvent(usage) {
      events++;
      seen = usage;
      return ledger.extend(reservation, estimate());
    },
    stream(usage) {
      let stopped = false;
      return new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          if (stopped) return callback();
          let at: number | undefined;
          try {
            at = usage.write(chunk);
          } catch {
            at = undefined; // a usage parser must never break the stream it watches
          }
          if (at === undefined) return callback(null, chunk);
          stopped = true;
          cut = `${errorType('AIRLOCK_ERR_BUDGET_EXHAUSTED')}: stream cut after ${events} events; the budget cannot cover more`;
          if (at > 0) this.push(chunk.subarray(0, at));
          this.push(finalEvent());
          this.push(null);
          callback();
        },
      });
    },
    settle(usage) {
      if (settled) return undefined;
      settled = true;
      if (cut) meter.upstream?.destroy(); // the guest's answer is complete: stop the upstream too
      const guess = estimate();
      const reported = usage ?? seen;
      const output =
        reported.outputTokens === undefined || cut
          ? Math.max(reported.outputTokens ?? 0, guess.output)
          : reported.outputTokens;
      const settledUsage: LlmUsage = {
        inputTokens: reported.inputTokens ?? guess.input,
        outputTokens: output,
      };
      const model = reported.model ?? reservation.model;
      if (model !== undefined) settledUsage.model = model;
      ledger.settle(reservation, settledUsage);
      return cut;
    },
  };
  return meter;
}

function finalEvent(): Buffer {
  const type = errorType('AIRLOCK_ERR_BUDGET_EXHAUSTED');
  const message =
    "the sandbox's token or cost budget cannot cover more of this stream; airlock ended it here";
  return Buffer.from(
    `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type, message } })}\n\n`,
  );
}

/** Answers a call its budget cannot cover: 429, with Retry-After when the budget's window will reset. */
export function refuseOverBudget(
  refusals: Refusals,
  port: ReplyPort,
  refusal: BudgetRefusal,
  request: RefusedRequest,
): void {
  const error = new AirlockError('AIRLOCK_ERR_BUDGET_EXHAUSTED', refusal.reason);
  const retryAfter =
    refusal.retryAt === undefined ? undefined : Math.max(1, Math.ceil((refusal.retryAt - Date.now()) / 1000));
  refusals.refuse(port, error, request, retryAfter);
}
