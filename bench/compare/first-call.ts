/**
 * The first call of a new sandbox: a fresh sandbox per sample, whose guest's very first
 * request (a one-event SSE stream) is timed to its first body byte, against a fresh client
 * on the host making its first request straight to the upstream (its own TLS handshake
 * included, as the proxy's fresh upstream pool has one too). Creating the sandbox is not
 * timed; medians.
 */
import { median, roundOrder } from './report.js';
import type { FirstCallFigures, SseStream } from './stream-figures.js';
import type { StreamHarness } from './stream-harness.js';

export async function measureFirstCall(h: StreamHarness, sandboxes: number): Promise<FirstCallFigures> {
  const mode = { mode: 'sse', n: 1, intervalMs: 0, warm: false } as const;
  const ttfb: Record<'direct' | 'airlock', number[]> = { direct: [], airlock: [] };
  for (let i = 0; i < sandboxes; i++) {
    for (const side of roundOrder(['direct', 'airlock'] as const, i)) {
      if (side === 'direct') {
        ttfb.direct.push((await h.runClient<SseStream>('direct', mode)).ttfbMs);
        continue;
      }
      const sandbox = await h.createSandbox();
      try {
        ttfb.airlock.push((await h.runClient<SseStream>(sandbox, mode)).ttfbMs);
      } finally {
        await h.closeSandbox(sandbox);
      }
    }
  }
  const med = (xs: number[]) => Number(median(xs).toFixed(3));
  return { sandboxes, ttfbMs: { direct: med(ttfb.direct), airlock: med(ttfb.airlock) } };
}
