import assert from 'node:assert/strict';
import { test } from 'node:test';
import { format } from 'prettier';
import {
  docsSection,
  figures,
  median,
  replaceSection,
  roundOrder,
  SECTION_END,
  streamRows,
  SECTION_START,
  targetRows,
  terminalReport,
  type BenchResults,
} from '../bench/compare/report.js';
import {
  eventLateness,
  mbPerSecond,
  percentile,
  sseFigures,
  type SseStream,
} from '../bench/compare/stream-figures.js';
import { delayForRate, parseWrk, wrkArgs, type WrkRun } from '../bench/compare/wrk.js';

// what `npm run bench` reports, from made-up runs: no timing is measured here

const run = (rps: number, p50Ms: number, p99Ms: number, errors = 0): WrkRun => ({
  requests: rps * 5,
  rps,
  p50Ms,
  p99Ms,
  maxMs: p99Ms * 2,
  errors,
});

function results(): BenchResults {
  const base: Omit<BenchResults, 'targets'> = {
    date: '2026-01-02T03:04:05.000Z',
    machine: { cpus: 2, node: '20.20.2', kernel: '6.1.0' },
    command: 'sudo npm run bench -- --rounds 3 --seconds 5 --connections 32',
    load: { tool: 'wrk', threads: 1, connections: 32, seconds: 5, rounds: 3 },
    arms: {
      direct: figures([run(58_000, 0.3, 0.9), run(59_000, 0.27, 0.87), run(57_000, 0.3, 1)]),
      nginx: figures([run(31_000, 0.9, 2.1)]),
      haproxy: figures([run(28_000, 1, 3.5)]),
      node: figures([run(12_400, 2.1, 137)]),
      airlockFull: figures([run(16_000, 2, 5, 1)]),
      airlockNormal: figures([run(1500, 20, 260)]),
    },
    halfLoad: {
      offeredRps: 8000,
      delayMs: 4,
      airlockFull: figures([run(7000, 1, 4)]),
      nginx: figures([run(7100, 0.5, 2.5)]),
    },
    startup: { helpMs: 120, runTrueMs: 1500.5, createTeardownMs: 49.9, createTeardownProcesses: 6 },
    sse: { events: 50, intervalMs: 20, rounds: 3, ttfbMs: { direct: 0.8, airlock: 1.5 }, latenessP99Ms: { direct: 2, airlock: 6.5 } }, // prettier-ignore
    bulk: { bytes: 100e6, rounds: 3, downloadMBps: { direct: 640, airlock: 80 }, uploadMBps: { direct: 290, airlock: 142 }, rssGrowthBytes: 53 * 2 ** 20 }, // prettier-ignore
    firstCall: { sandboxes: 5, ttfbMs: { direct: 3, airlock: 70 } },
    manyStreams: { streams: 2000, opened: 2000, rssBeforeBytes: 100 * 2 ** 20, rssPeakBytes: 250 * 2 ** 20 },
    perPacket: { connectsPerSecondWith1: 10_000, connectsPerSecondWith1000: 9_600, ratio: 0.96, rounds: 3 },
  };
  return { ...base, targets: targetRows(base) };
}

test('medians of interleaved rounds, and each round starts at another arm', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  assert.ok(Number.isNaN(median([])));
  const f = figures([run(100, 1, 9, 2), run(300, 3, 7), run(200, 2, 8, 1)]);
  assert.deepEqual({ rps: f.rps, p50Ms: f.p50Ms, p99Ms: f.p99Ms, errors: f.errors }, { rps: 200, p50Ms: 2, p99Ms: 8, errors: 3 }); // prettier-ignore
  assert.deepEqual(roundOrder(['a', 'b', 'c'], 0), ['a', 'b', 'c']);
  assert.deepEqual(roundOrder(['a', 'b', 'c'], 4), ['b', 'c', 'a']);
});

test("wrk's arguments, its pacing delay and its summary line", () => {
  assert.deepEqual(
    wrkArgs({ url: 'http://x/y', seconds: 5, connections: 32, threads: 1, headers: ['a: b'], script: '/s.lua', delayMs: 4 }), // prettier-ignore
    ['-t1', '-c32', '-d5s', '-s', '/s.lua', '-H', 'a: b', 'http://x/y', '--', '4'],
  );
  assert.equal(delayForRate(8000, 32), 4);
  assert.equal(delayForRate(1e9, 32), 1);
  const out = `Running 5s test\nWRKJSON {"requests":5000,"durationUs":2000000,"p50Us":1234,"p99Us":9876,"maxUs":20000,"connect":1,"read":0,"write":0,"status":2,"timeout":3}\n`;
  assert.deepEqual(parseWrk(out), {
    requests: 5000,
    rps: 2500,
    p50Ms: 1.234,
    p99Ms: 9.876,
    maxMs: 20,
    errors: 6,
  });
  assert.throws(() => parseWrk('unable to connect'), /no summary/);
});

test('each target of issue 11 is a row, with ✓ where it holds, ✗ where not, — where not measured', () => {
  const r = results();
  const byFigure = new Map(r.targets.map((t) => [t.figure, t]));
  assert.equal(r.targets.length, 10);
  assert.equal(byFigure.get('req/s, audit FULL, wrk in a sandbox')?.holds, true); // 0.52× nginx, 1.29× Node
  assert.equal(byFigure.get("p99 at half of airlock's own max load")?.holds, true); // 4 ≤ 2 × 2.5
  assert.equal(byFigure.get('SSE')?.holds, true); // +0.7 ms first byte, +4.5 ms lateness p99
  assert.equal(byFigure.get('100 MB upload and download')?.holds, false); // 0.13× down, 0.49× up, +53 MiB
  assert.equal(byFigure.get('first call of a new sandbox')?.holds, false); // +67 ms
  assert.equal(byFigure.get('2,000 concurrent SSE streams')?.holds, true); // 250 MiB
  assert.equal(byFigure.get('sandbox create + teardown (engine)')?.holds, true);
  assert.equal(byFigure.get('sandbox create + teardown (engine)')?.measured, '49.9 ms (p50), 6 processes');
  const tooMany = targetRows({ ...r, startup: { ...r.startup, createTeardownProcesses: 11 } });
  assert.equal(tooMany.find((t) => t.figure === 'sandbox create + teardown (engine)')?.holds, false);
  assert.equal(byFigure.get('`airlock run -- true` wall')?.holds, false);
  assert.equal(byFigure.get('`airlock --help` wall')?.holds, true);
  assert.equal(byFigure.get('1 vs 1,000 sandboxes, per-packet')?.holds, true); // 4 % slower
  assert.equal(
    byFigure.get('1 vs 1,000 sandboxes, per-packet')?.measured,
    '10,000 connects/s with 1, 9,600 with 1,000 (0.96×), median of 3',
  );
  const slower = targetRows({
    ...r,
    perPacket: { ...r.perPacket!, connectsPerSecondWith1000: 9_400, ratio: 0.94 },
  });
  assert.equal(slower.find((t) => t.figure === '1 vs 1,000 sandboxes, per-packet')?.holds, false);
  const { perPacket: _omitted, ...without } = r;
  assert.equal(targetRows(without).find((t) => t.figure === '1 vs 1,000 sandboxes, per-packet')?.holds, null);
  const text = terminalReport(r);
  assert.match(
    text,
    /\| airlock, audit FULL \(wrk in a sandbox\) +\| 16\.0k +\| 2\.00 ms +\| 5\.00 ms +\| 0\.52× +\| 1 +\|/,
  );
  assert.match(text, /\| `airlock run -- true` wall +\| median ≤ 250 ms +\| 1501 ms +\| ✗ +\|/);
  assert.match(text, /reproduce: sudo npm run bench -- --rounds 3/);
  assert.match(
    text,
    /\| 1 vs 1,000 sandboxes, per-packet +\| within 5 % .*\| 10,000 connects\/s with 1, 9,600 with 1,000 \(0\.96×\), median of 3 +\| ✓ +\|/,
  );
  assert.match(text, /\| 100 MB download \(median of 3\) +\| 640 MB\/s +\| 80 MB\/s +\|/);
  assert.match(text, /first byte \+0\.70 ms; event lateness p99 6\.50 ms vs 2\.00 ms direct \(\+4\.50 ms\)/);
  // the JSON file round-trips
  assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
});

test('the docs section is prettier-clean and replaces only what lies between its markers', async () => {
  const section = docsSection(results());
  const doc = `# Benchmarks\n\nHand-written.\n\n${SECTION_START}\n\nold\n\n${SECTION_END}\n\n## Other\n\nKept.\n`;
  const updated = replaceSection(doc, section);
  assert.ok(updated.startsWith('# Benchmarks\n\nHand-written.\n\n'));
  assert.ok(updated.endsWith(`${SECTION_END}\n\n## Other\n\nKept.\n`));
  assert.ok(!updated.includes('\nold\n'));
  assert.equal(replaceSection(updated, section), updated);
  assert.equal(await format(updated, { parser: 'markdown', printWidth: 110, singleQuote: true }), updated);
  // no markers yet: the section is appended
  const appended = replaceSection('# Benchmarks\n', section);
  assert.ok(appended.startsWith(`# Benchmarks\n\n${SECTION_START}\n\n## \`npm run bench\``));
  assert.ok(appended.endsWith(`${SECTION_END}\n`));
});

test('SSE lateness takes differences within one clock only, and the streaming rows hold or not by their targets', () => {
  // the client's clock starts at its request, the upstream's at its response: 1000 ms apart
  // here, which must not matter; event 2 was held back 3 ms on the way
  const stream: SseStream = {
    ttfbMs: 5,
    events: [
      { i: 0, sentMs: 1000, atMs: 5 },
      { i: 1, sentMs: 1020, atMs: 25.5 },
      { i: 2, sentMs: 1040, atMs: 48 },
    ],
  };
  assert.deepEqual(eventLateness(stream), [0.5, 3]);
  assert.deepEqual(eventLateness({ ttfbMs: 1, events: [] }), []);
  assert.equal(percentile([5, 1, 4, 2, 3], 99), 5);
  assert.equal(percentile([5, 1, 4, 2, 3], 50), 3);
  assert.equal(
    percentile(
      Array.from({ length: 200 }, (_, i) => i + 1),
      99,
    ),
    198,
  );
  assert.ok(Number.isNaN(percentile([], 99)));
  const direct: SseStream = { ttfbMs: 1, events: [{ i: 0, sentMs: 0, atMs: 1 }, { i: 1, sentMs: 20, atMs: 21 }] }; // prettier-ignore
  const f = sseFigures([direct, { ...direct, ttfbMs: 3 }], [stream], { events: 3, intervalMs: 20 });
  assert.deepEqual(f, {
    events: 3,
    intervalMs: 20,
    rounds: 1,
    ttfbMs: { direct: 2, airlock: 5 },
    latenessP99Ms: { direct: 0, airlock: 3 },
  });
  assert.equal(mbPerSecond(100e6, 250), 400);
  // SSE: +3 ms first byte fails its 1 ms target even though lateness holds
  const [sse, bulk, first, many] = streamRows({
    sse: f,
    bulk: { bytes: 100e6, rounds: 1, downloadMBps: { direct: 600, airlock: 300 }, uploadMBps: { direct: 300, airlock: 150 }, rssGrowthBytes: 16e6 }, // prettier-ignore
    firstCall: { sandboxes: 5, ttfbMs: { direct: 8, airlock: 6 } },
    manyStreams: { streams: 2000, opened: 1999, rssBeforeBytes: 2 ** 27, rssPeakBytes: 2 ** 28 },
  });
  assert.equal(sse?.holds, false);
  assert.equal(bulk?.holds, true); // exactly 0.5× each way and 16 MB: on the line holds
  const [, cold] = streamRows({ bulk: { bytes: 100e6, rounds: 1, downloadMBps: { direct: 600, airlock: 300 }, uploadMBps: { direct: 300, airlock: 150 }, rssGrowthBytes: 1e6, coldRssGrowthBytes: 40e6 } }); // prettier-ignore
  assert.equal(cold?.holds, false); // a fresh engine's first transfer grew by 40 MB
  assert.equal(first?.holds, true);
  assert.match(first.measured, /\(−2\.00 ms\)/);
  assert.equal(many?.holds, false); // one stream did not open
  assert.match(many.measured, /only 1999 opened/);
  // nothing measured: a dash, not a pass
  assert.deepEqual(
    streamRows({}).map((r) => r.holds),
    [null, null, null, null],
  );
});
