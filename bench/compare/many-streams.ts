/**
 * Many SSE streams held open at once through one sandbox's proxy: one client process in the
 * sandbox opens them all (events 1 s apart), waits until each has its first event, holds
 * them, then drops them. The engine process's RSS (its own process: stream-harness.ts) is sampled throughout; its peak is the figure.
 */
import type { ManyStreamsFigures } from './stream-figures.js';
import type { StreamHarness } from './stream-harness.js';

export async function measureManyStreams(
  h: StreamHarness,
  streams: number,
  holdMs = 2000,
): Promise<ManyStreamsFigures> {
  const r = await h.rssDuring(() =>
    h.runClient<{ opened: number; failed: number }>(h.sandbox, { mode: 'many', streams, holdMs }),
  );
  return { streams, opened: r.value.opened, rssBeforeBytes: r.beforeBytes, rssPeakBytes: r.peakBytes };
}
