/**
 * A large download and upload through airlock vs direct (interleaved rounds, medians), and how
 * much the engine's process grows while one goes through it: its RSS sampled during each
 * transfer through airlock, against its RSS just before (the engine, the clients and the
 * upstream are processes of their own, so the growth is the engine's). One transfer each way
 * goes first, untimed: a fresh engine grows once while V8 compiles its body path and sizes
 * its young heap (`coldRssGrowthBytes`); the rounds then measure the engine as it runs.
 */
import { median, roundOrder } from './report.js';
import { mbPerSecond, type BulkFigures } from './stream-figures.js';
import type { StreamHarness } from './stream-harness.js';

interface Transfer {
  bytes: number;
  ms: number;
}

export async function measureBulk(h: StreamHarness, rounds: number, bytes: number): Promise<BulkFigures> {
  const mbps = { download: { direct: [] as number[], airlock: [] as number[] }, upload: { direct: [] as number[], airlock: [] as number[] } }; // prettier-ignore
  const cpuMs = { download: [] as number[], upload: [] as number[] };
  let rssGrowthBytes = 0;
  let coldRssGrowthBytes = 0;
  for (const direction of ['download', 'upload'] as const) {
    const r = await h.rssDuring(() => h.runClient<Transfer>(h.sandbox, { mode: direction, bytes }));
    coldRssGrowthBytes = Math.max(coldRssGrowthBytes, r.peakBytes - r.beforeBytes);
  }
  for (let round = 0; round < rounds; round++) {
    for (const direction of roundOrder(['download', 'upload'] as const, round)) {
      for (const side of roundOrder(['direct', 'airlock'] as const, round)) {
        const run = () => h.runClient<Transfer>(side === 'direct' ? 'direct' : h.sandbox, { mode: direction, bytes }); // prettier-ignore
        let t: Transfer;
        if (side === 'airlock') {
          const r = await h.rssDuring(run);
          rssGrowthBytes = Math.max(rssGrowthBytes, r.peakBytes - r.beforeBytes);
          cpuMs[direction].push(r.cpuMs);
          t = r.value;
        } else {
          t = await run();
        }
        if (t.bytes !== bytes) throw new Error(`${direction} ${side}: ${t.bytes} of ${bytes} bytes arrived`);
        mbps[direction][side].push(mbPerSecond(bytes, t.ms));
      }
    }
  }
  const med = (xs: number[]) => Number(median(xs).toFixed(1));
  return {
    bytes,
    rounds,
    downloadMBps: { direct: med(mbps.download.direct), airlock: med(mbps.download.airlock) },
    uploadMBps: { direct: med(mbps.upload.direct), airlock: med(mbps.upload.airlock) },
    engineCpuMs: { download: median(cpuMs.download), upload: median(cpuMs.upload) },
    rssGrowthBytes,
    coldRssGrowthBytes,
  };
}
