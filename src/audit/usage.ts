import type { Service } from '../catalogue/service.js';
import type { LlmUsage } from './sink.js';

/** Which response shape usage is read from (the catalogue's `usageFormat`). */
export type UsageFormat = NonNullable<Service['usageFormat']>;

/** Sees a response body as it streams past and reports the LLM usage in it. */
export interface UsageTap {
  /**
   * one chunk of the (identity-encoded) body, in order; returns where in it the stream was
   * stopped by `onEvent` (the offset just past that event), else undefined
   */
  write(chunk: Buffer): number | undefined;
  /** the body ended; the usage found, or undefined when there was none */
  end(): LlmUsage | undefined;
}

export interface UsageTapOptions {
  /** the response's Content-Encoding; anything but identity makes the tap a no-op */
  contentEncoding?: string;
  /** most bytes held at once: a JSON body, or one SSE event (omitted = 4 MiB) */
  maxBytes?: number;
  /**
   * told after each SSE event with data, with the usage seen so far; returning false stops the
   * stream at that event's end (budgets cut a stream there). Omitted = never stops.
   */
  onEvent?: (usage: LlmUsage) => boolean;
}

const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Creates a usage tap. JSON bodies are kept up to `maxBytes` and parsed at the end (bigger
 * ones are given up on). SSE streams are parsed event by event, holding only the current
 * event; an event is parsed only if it may carry usage (or the model is still unknown), so
 * a long stream of text deltas costs a byte search each. The tap never throws.
 */
export function createUsageTap(
  format: UsageFormat,
  contentType: string | undefined,
  options: UsageTapOptions = {},
): UsageTap {
  const encoding = options.contentEncoding?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') return NO_TAP;
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const extract = EXTRACTORS[format];
  if (mediaType === 'text/event-stream') return createSseTap(extract, maxBytes, options.onEvent);
  if (mediaType === 'application/json' || mediaType.endsWith('+json'))
    return createJsonTap(extract, maxBytes);
  return NO_TAP;
}

const NO_TAP: UsageTap = { write: () => undefined, end: () => undefined };

type Extractor = (value: Record<string, unknown>) => LlmUsage;

function createJsonTap(extract: Extractor, maxBytes: number): UsageTap {
  let chunks: Buffer[] = [];
  let size = 0;
  let overflow = false;
  return {
    write(chunk) {
      if (overflow) return undefined;
      size += chunk.length;
      if (size > maxBytes) {
        overflow = true;
        chunks = [];
        return undefined;
      }
      chunks.push(chunk);
      return undefined;
    },
    end() {
      if (overflow) return undefined;
      const body = parseJson(Buffer.concat(chunks));
      chunks = [];
      // Google's streamGenerateContent without alt=sse answers a JSON array of responses.
      const items = Array.isArray(body) ? (body as unknown[]) : [body];
      let usage: LlmUsage = {};
      for (const item of items) if (isObject(item)) usage = merge(usage, extract(item));
      return found(usage);
    },
  };
}

function createSseTap(
  extract: Extractor,
  maxBytes: number,
  onEvent: ((usage: LlmUsage) => boolean) | undefined,
): UsageTap {
  let usage: LlmUsage = {};
  /** onEvent said stop: the rest of the stream is not read */
  let stopped = false;
  /** the current line's bytes so far (a line may span chunks) */
  let partial: Buffer[] = [];
  let partialSize = 0;
  /** the current event's data lines */
  let data: Buffer[] = [];
  let dataSize = 0;
  /** the current event outgrew maxBytes: skip it */
  let tooLong = false;
  /** the current line outgrew maxBytes: drop it up to its end */
  let dropLine = false;
  /** the last chunk ended in CR: a LF starting the next one belongs to it */
  let skipLf = false;

  const dispatch = () => {
    if (data.length > 0 && !tooLong) {
      const payload =
        data.length === 1 ? data[0]! : Buffer.concat(data.flatMap((d, i) => (i ? [NL, d] : [d])));
      if (usage.model === undefined || mayCarryUsage(payload)) {
        const value = parseJson(payload);
        if (isObject(value)) usage = merge(usage, extract(value));
      }
      if (onEvent && !onEvent(usage)) stopped = true;
    }
    data = [];
    dataSize = 0;
    tooLong = false;
  };

  const line = (bytes: Buffer) => {
    if (bytes.length === 0) return dispatch();
    if (tooLong) return;
    // only `data:` fields matter: the JSON says what kind of event it is
    if (bytes.length < 5 || bytes.toString('latin1', 0, 5) !== 'data:') return;
    const value = bytes.subarray(bytes[5] === 0x20 ? 6 : 5);
    dataSize += value.length;
    if (dataSize > maxBytes) tooLong = true;
    else data.push(value);
  };

  const endLine = (tail: Buffer) => {
    if (dropLine) {
      dropLine = false;
      tooLong = true;
      return;
    }
    if (partial.length === 0) return line(tail);
    partial.push(tail);
    const whole = Buffer.concat(partial);
    partial = [];
    partialSize = 0;
    line(whole);
  };

  return {
    write(chunk) {
      if (stopped) return 0;
      let pos = 0;
      if (skipLf && chunk.length > 0 && chunk[0] === LF) pos = 1;
      if (chunk.length > 0) skipLf = false;
      let lf = -2; // next LF / CR at or after pos; -2 = not searched yet, -1 = none left
      let cr = -2;
      while (pos < chunk.length) {
        if (lf !== -1 && lf < pos) lf = chunk.indexOf(LF, pos);
        if (cr !== -1 && cr < pos) cr = chunk.indexOf(CR, pos);
        const end = lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
        if (end === -1) break;
        endLine(chunk.subarray(pos, end));
        pos = end + 1;
        if (chunk[end] === CR) {
          if (pos === chunk.length) skipLf = true;
          else if (chunk[pos] === LF) pos++;
        }
        if (stopped) return pos;
      }
      if (pos < chunk.length && !dropLine) {
        const rest = chunk.subarray(pos);
        partialSize += rest.length;
        if (partialSize > maxBytes) {
          // a line longer than the window: drop what we hold, the rest of it, and its event
          partial = [];
          partialSize = 0;
          dropLine = true;
        } else {
          // copy: the caller may reuse the chunk's memory after write returns
          partial.push(Buffer.from(rest));
        }
      }
      return undefined;
    },
    end() {
      // be lenient with a stream cut short: finish the last line and event
      if (partial.length > 0 || dropLine) endLine(Buffer.alloc(0));
      dispatch();
      return found(usage);
    },
  };
}

const NL = Buffer.from('\n');

/**
 * Whether an event has a `"usage…": {` member, so the many `"usage": null` chunks of an
 * OpenAI stream with include_usage are skipped without parsing. A false positive (the text
 * inside a string) only costs a parse.
 */
function mayCarryUsage(payload: Buffer): boolean {
  for (let i = payload.indexOf('"usage'); i !== -1; i = payload.indexOf('"usage', i + 1)) {
    let j = payload.indexOf(0x22, i + 1); // the key's closing quote
    if (j === -1) return false;
    j++;
    while (payload[j] === 0x20 || payload[j] === 0x09 || payload[j] === 0x0a || payload[j] === 0x0d) j++;
    if (payload[j] !== 0x3a) continue; // ':'
    j++;
    while (payload[j] === 0x20 || payload[j] === 0x09 || payload[j] === 0x0a || payload[j] === 0x0d) j++;
    if (payload[j] === 0x7b) return true; // '{'
  }
  return false;
}

/**
 * Reads one parsed body or event per provider. Fields absent from it stay undefined, so
 * later events overwrite only what they carry (streams report cumulative counts).
 */
const EXTRACTORS: Record<UsageFormat, Extractor> = {
  // Chat completions: `usage.prompt_tokens/completion_tokens` (the last chunk with
  // stream_options.include_usage). Responses API: `usage.input_tokens/output_tokens`, in
  // stream events wrapped as `{type: 'response.completed', response: {…}}`.
  openai(o) {
    const src = typeof o.type === 'string' && isObject(o.response) ? o.response : o;
    const u = isObject(src.usage) ? src.usage : {};
    return {
      model: text(src.model),
      inputTokens: count(u.prompt_tokens) ?? count(u.input_tokens),
      outputTokens: count(u.completion_tokens) ?? count(u.output_tokens),
    };
  },
  // Messages: `usage` on the message (JSON, and `message_start` in a stream) and on
  // `message_delta` (cumulative). Input counts cache reads and writes too, which Anthropic
  // reports apart, so it means "prompt tokens processed" as for the other providers.
  anthropic(o) {
    const src = o.type === 'message_start' && isObject(o.message) ? o.message : o;
    const u = isObject(src.usage) ? src.usage : {};
    const input = count(u.input_tokens);
    return {
      model: text(src.model),
      inputTokens:
        input === undefined
          ? undefined
          : input + (count(u.cache_creation_input_tokens) ?? 0) + (count(u.cache_read_input_tokens) ?? 0),
      outputTokens: count(u.output_tokens),
    };
  },
  // generateContent / streamGenerateContent: `usageMetadata` (cumulative per chunk) and
  // `modelVersion`. Thinking tokens are billed as output, as OpenAI and Anthropic count them.
  google(o) {
    const u = isObject(o.usageMetadata) ? o.usageMetadata : {};
    const candidates = count(u.candidatesTokenCount);
    const thoughts = count(u.thoughtsTokenCount);
    return {
      model: text(o.modelVersion),
      inputTokens: count(u.promptTokenCount),
      outputTokens:
        candidates === undefined && thoughts === undefined ? undefined : (candidates ?? 0) + (thoughts ?? 0),
    };
  },
};

function merge(a: LlmUsage, b: LlmUsage): LlmUsage {
  return {
    model: b.model ?? a.model,
    inputTokens: b.inputTokens ?? a.inputTokens,
    outputTokens: b.outputTokens ?? a.outputTokens,
  };
}

function found(u: LlmUsage): LlmUsage | undefined {
  if (u.model === undefined && u.inputTokens === undefined && u.outputTokens === undefined) return undefined;
  const result: LlmUsage = {};
  if (u.model !== undefined) result.model = u.model;
  if (u.inputTokens !== undefined) result.inputTokens = u.inputTokens;
  if (u.outputTokens !== undefined) result.outputTokens = u.outputTokens;
  return result;
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value.slice(0, 200) : undefined;
}
