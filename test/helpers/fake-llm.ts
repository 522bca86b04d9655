import type { UpstreamHandler } from './fake-upstream.js';

export interface FakeChatOptions {
  /** prompt tokens every call reports (omitted = 150) */
  promptTokens?: number;
  /** completion tokens a call produces when it names no max_tokens (omitted = 1000) */
  unlimitedTokens?: number;
  /** model the answers name (omitted = gpt-test) */
  model?: string;
}

/** What the fake saw of its streams: how many it began, and how many ended before their last event. */
export interface FakeChatStats {
  streams: number;
  streamsCutShort: number;
}

/**
 * OpenAI chat completions (`/v1/chat/completions`) as a provider answers them: a completion of
 * `max_tokens` tokens (or `unlimitedTokens` when the request names none) with its usage; with
 * `stream: true`, one chunk per token (written without waiting), then the usage chunk when
 * `stream_options.include_usage` asks for it, then `[DONE]`.
 */
export function fakeChat(options: FakeChatOptions = {}): { handler: UpstreamHandler; stats: FakeChatStats } {
  const stats: FakeChatStats = { streams: 0, streamsCutShort: 0 };
  const prompt = options.promptTokens ?? 150;
  const model = options.model ?? 'gpt-test';
  const handler: UpstreamHandler = async (req, res, recorded) => {
    if (!(req.url ?? '').endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return void res.end('{"error":{"message":"fake: no such route"}}');
    }
    const body = JSON.parse(recorded.body.toString() || '{}') as {
      max_tokens?: number;
      max_completion_tokens?: number;
      stream?: boolean;
      stream_options?: { include_usage?: boolean };
    };
    const completion = body.max_completion_tokens ?? body.max_tokens ?? options.unlimitedTokens ?? 1000;
    const usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
    const base = { id: 'chatcmpl-test', created: 0, model };
    if (!body.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(
        JSON.stringify({
          ...base,
          object: 'chat.completion',
          choices: [
            {
              index: 0,
              finish_reason: 'length',
              message: { role: 'assistant', content: 'x'.repeat(completion) },
            },
          ],
          usage,
        }),
      );
    }
    stats.streams++;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let gone = false;
    res.once('close', () => {
      if (!res.writableFinished) {
        gone = true;
        stats.streamsCutShort++;
      }
    });
    const chunk = (delta: object, extra: object = {}) =>
      `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: null }], ...extra })}\n\n`;
    for (let i = 0; i < completion && !gone; i++) {
      if (!res.write(chunk({ content: 'x' }))) await new Promise((r) => res.once('drain', r));
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 5)); // let the proxy see it arrive in pieces
    }
    if (gone) return;
    if (body.stream_options?.include_usage)
      res.write(
        `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [], usage })}\n\n`,
      );
    res.end('data: [DONE]\n\n');
  };
  return { handler, stats };
}
