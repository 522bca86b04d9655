/**
 * SSE through airlock vs direct: one stream of `events` events `intervalMs` apart per side
 * and round (interleaved), each on a connection the client warmed first, so the figures are
 * the proxy's per-stream and per-event cost, not connection set-up (first-call.ts has that).
 */
import { roundOrder } from './report.js';
import { sseFigures, type SseFigures, type SseStream } from './stream-figures.js';
import type { StreamHarness } from './stream-harness.js';

export async function measureSse(
  h: StreamHarness,
  rounds: number,
  o: { events: number; intervalMs: number } = { events: 50, intervalMs: 20 },
): Promise<SseFigures> {
  const mode = { mode: 'sse', n: o.events, intervalMs: o.intervalMs, warm: true } as const;
  const runs: Record<'direct' | 'airlock', SseStream[]> = { direct: [], airlock: [] };
  for (let round = 0; round < rounds; round++) {
    for (const side of roundOrder(['direct', 'airlock'] as const, round)) {
      const s = await h.runClient<SseStream>(side === 'direct' ? 'direct' : h.sandbox, mode);
      if (s.events.length !== o.events) {
        throw new Error(`SSE ${side}: ${s.events.length} of ${o.events} events arrived`);
      }
      runs[side].push(s);
    }
  }
  return sseFigures(runs.direct, runs.airlock, o);
}
