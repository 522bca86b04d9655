/**
 * The streaming figures of `npm run bench`, in one place: SSE, large bodies, a new sandbox's
 * first call, many streams at once. One upstream and one engine for all of them, each in a
 * process of its own (see stream-harness.ts), closed before returning. A figure whose count is 0 is skipped.
 */
import { measureBulk } from './bulk.js';
import { measureFirstCall } from './first-call.js';
import { measureManyStreams } from './many-streams.js';
import type { UpstreamTarget } from './native-servers.js';
import type { BenchResults } from './report.js';
import { measureSse } from './sse.js';
import { openStreamHarness } from './stream-harness.js';

export interface StreamingPlan {
  rounds: number;
  sse: boolean;
  /** size of the download and the upload (0 = skip) */
  bulkBytes: number;
  /** fresh sandboxes for the first-call figure (0 = skip) */
  firstCalls: number;
  /** SSE streams held open at once (0 = skip) */
  streams: number;
  log(line: string): void;
  /** registers a clean-up for an interrupted run (closing twice is harmless) */
  defer(cleanup: () => Promise<void>): void;
}

export type StreamingResults = Pick<BenchResults, 'sse' | 'bulk' | 'firstCall' | 'manyStreams'>;

export async function measureStreaming(
  up: UpstreamTarget,
  leaf: { cert: string; key: string },
  pool: string,
  plan: StreamingPlan,
): Promise<StreamingResults> {
  const out: StreamingResults = {};
  if (!plan.sse && plan.bulkBytes === 0 && plan.firstCalls === 0 && plan.streams === 0) return out;
  plan.log('streaming figures: starting their upstream and engine…');
  const h = await openStreamHarness(up, leaf, pool);
  plan.defer(() => h.close());
  try {
    if (plan.sse) {
      out.sse = await measureSse(h, plan.rounds);
      plan.log(`SSE: first byte ${JSON.stringify(out.sse.ttfbMs)} ms, lateness p99 ${JSON.stringify(out.sse.latenessP99Ms)} ms`); // prettier-ignore
    }
    if (plan.bulkBytes > 0) {
      out.bulk = await measureBulk(h, plan.rounds, plan.bulkBytes);
      plan.log(`bodies: down ${JSON.stringify(out.bulk.downloadMBps)} MB/s, up ${JSON.stringify(out.bulk.uploadMBps)} MB/s, RSS +${out.bulk.rssGrowthBytes} B`); // prettier-ignore
    }
    if (plan.firstCalls > 0) {
      out.firstCall = await measureFirstCall(h, plan.firstCalls);
      plan.log(`first call: ${JSON.stringify(out.firstCall.ttfbMs)} ms`);
    }
    if (plan.streams > 0) {
      out.manyStreams = await measureManyStreams(h, plan.streams);
      plan.log(`many streams: ${out.manyStreams.opened} open, RSS ${out.manyStreams.rssBeforeBytes} → ${out.manyStreams.rssPeakBytes} B`); // prettier-ignore
    }
  } finally {
    await h.close();
  }
  return out;
}
