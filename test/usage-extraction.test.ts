import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import type { LlmUsage } from '../src/audit/sink.js';
import { createUsageTap, type UsageFormat } from '../src/audit/usage.js';

interface Fixture {
  file: string;
  format: UsageFormat;
  contentType: string;
  /** what the fixture says, by the rules in docs/audit.md */
  usage: LlmUsage;
}

const FIXTURES: Fixture[] = [
  {
    file: 'openai-chat.json',
    format: 'openai',
    contentType: 'application/json',
    usage: { model: 'gpt-4o-2024-08-06', inputTokens: 19, outputTokens: 10 },
  },
  {
    file: 'openai-chat-stream.sse',
    format: 'openai',
    contentType: 'text/event-stream; charset=utf-8',
    usage: { model: 'gpt-4o-mini-2024-07-18', inputTokens: 1017, outputTokens: 83 },
  },
  {
    file: 'openai-responses.json',
    format: 'openai',
    contentType: 'application/json',
    usage: { model: 'gpt-4.1-2025-04-14', inputTokens: 36, outputTokens: 87 },
  },
  {
    file: 'openai-responses-stream.sse',
    format: 'openai',
    contentType: 'text/event-stream',
    usage: { model: 'gpt-4.1-2025-04-14', inputTokens: 37, outputTokens: 11 },
  },
  {
    // input = input_tokens + cache_creation_input_tokens + cache_read_input_tokens
    file: 'anthropic-messages.json',
    format: 'anthropic',
    contentType: 'application/json',
    usage: { model: 'claude-sonnet-4-5-20250929', inputTokens: 2095 + 100 + 1000, outputTokens: 503 },
  },
  {
    // message_start: input 25 + cache read 2048; message_delta: 15 output (cumulative)
    file: 'anthropic-messages-stream.sse',
    format: 'anthropic',
    contentType: 'text/event-stream',
    usage: { model: 'claude-sonnet-4-5-20250929', inputTokens: 25 + 2048, outputTokens: 15 },
  },
  {
    // output = candidatesTokenCount + thoughtsTokenCount
    file: 'google-generate.json',
    format: 'google',
    contentType: 'application/json; charset=UTF-8',
    usage: { model: 'gemini-2.5-flash', inputTokens: 11, outputTokens: 9 + 45 },
  },
  {
    // alt=sse, CRLF line ends, cumulative usageMetadata: the last chunk counts
    file: 'google-stream.sse',
    format: 'google',
    contentType: 'text/event-stream',
    usage: { model: 'gemini-2.5-flash', inputTokens: 14, outputTokens: 41 + 246 },
  },
  {
    file: 'google-stream-array.json',
    format: 'google',
    contentType: 'application/json',
    usage: { model: 'gemini-2.0-flash', inputTokens: 8, outputTokens: 4 },
  },
];

const load = (file: string) => readFileSync(new URL(`./fixtures/usage/${file}`, import.meta.url));

function tapAll(f: Fixture, pieces: Buffer[]): LlmUsage | undefined {
  const tap = createUsageTap(f.format, f.contentType);
  for (const p of pieces) tap.write(p);
  return tap.end();
}

for (const f of FIXTURES) {
  test(`usage from ${f.file}, whole and split at every offset`, () => {
    const body = load(f.file);
    assert.deepEqual(tapAll(f, [body]), f.usage);
    for (let i = 0; i <= body.length; i++) {
      assert.deepEqual(tapAll(f, [body.subarray(0, i), body.subarray(i)]), f.usage, `split at ${i}`);
    }
    assert.deepEqual(
      tapAll(
        f,
        [...body].map((b) => Buffer.from([b])),
      ),
      f.usage,
      'one byte at a time',
    );
  });
}

test('usage survives any split into many pieces (property)', () => {
  fc.assert(
    fc.property(fc.constantFrom(...FIXTURES), fc.uniqueArray(fc.nat(), { maxLength: 40 }), (f, cuts) => {
      const body = load(f.file);
      const points = [...new Set(cuts.map((c) => c % (body.length + 1)))].sort((a, b) => a - b);
      const pieces: Buffer[] = [];
      let last = 0;
      for (const p of [...points, body.length]) {
        pieces.push(body.subarray(last, p));
        last = p;
      }
      assert.deepEqual(tapAll(f, pieces), f.usage);
    }),
    { numRuns: 500 },
  );
});

test('the tap holds a bounded window: an oversized JSON body or SSE event is given up on', () => {
  const json = createUsageTap('openai', 'application/json', { maxBytes: 100 });
  json.write(load('openai-chat.json'));
  assert.equal(json.end(), undefined);

  // An oversized event is skipped, but the events after it are still read.
  const sse = createUsageTap('anthropic', 'text/event-stream', { maxBytes: 400 });
  const huge = `data: {"type":"content_block_delta","delta":{"text":"${'x'.repeat(1000)}"}}\n\n`;
  sse.write(Buffer.from(huge.slice(0, 500)));
  sse.write(Buffer.from(huge.slice(500) + huge));
  sse.write(load('anthropic-messages-stream.sse'));
  assert.deepEqual(sse.end(), FIXTURES[5]!.usage);
});

test('no usage: other content types, compressed bodies, error bodies, garbage', () => {
  const body = load('openai-chat.json');
  for (const [contentType, encoding] of [
    ['text/html', undefined],
    [undefined, undefined],
    ['application/json', 'gzip'],
  ] as const) {
    const tap = createUsageTap('openai', contentType, { contentEncoding: encoding });
    tap.write(body);
    assert.equal(tap.end(), undefined, `${contentType} ${encoding}`);
  }
  const error = createUsageTap('anthropic', 'application/json');
  error.write(Buffer.from('{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'));
  assert.equal(error.end(), undefined);
  const garbage = createUsageTap('google', 'text/event-stream');
  garbage.write(Buffer.from('data: {not json\n\n: comment\n\nevent: x\ndata: [DONE]\n\n\r\r\n'));
  assert.equal(garbage.end(), undefined);
});

test('an SSE event whose data spans several data: lines is joined with newlines', () => {
  const tap = createUsageTap('anthropic', 'text/event-stream');
  tap.write(
    Buffer.from(
      'event: message_delta\ndata: {"type":"message_delta",\ndata: "usage":{"output_tokens":7}}\n\n',
    ),
  );
  assert.deepEqual(tap.end(), { outputTokens: 7 });
});
