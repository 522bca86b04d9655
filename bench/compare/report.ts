/**
 * What `npm run bench` reports, as pure functions: medians of interleaved rounds, the figures
 * beside issue 11's targets, the terminal/Markdown table, the JSON file and the generated
 * section of docs/benchmarks.md.
 */
import type { PerPacketFigures } from './per-packet.js';
import type { BulkFigures, FirstCallFigures, ManyStreamsFigures, SseFigures } from './stream-figures.js';
import type { WrkRun } from './wrk.js';

/** The arms of the throughput comparison, in table order. */
export const ARMS = ['direct', 'nginx', 'haproxy', 'node', 'airlockFull', 'airlockNormal'] as const;
export type Arm = (typeof ARMS)[number];

export const ARM_LABELS: Record<Arm, string> = {
  direct: 'direct to the upstream',
  nginx: 'nginx injecting the header',
  haproxy: 'haproxy injecting the header',
  node: 'bare `node:http` + `undici.stream` passthrough',
  airlockFull: 'airlock, audit FULL (wrk in a sandbox)',
  airlockNormal: 'airlock, audit NORMAL (wrk in a sandbox)',
};

/** The medians of one arm's rounds. */
export interface ArmFigures {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** errors summed over all rounds (non-2xx answers included) */
  errors: number;
  rounds: WrkRun[];
}

/** One row of the targets table. */
export interface TargetRow {
  figure: string;
  target: string;
  /** the measured value as shown */
  measured: string;
  /** null: not measured by this run */
  holds: boolean | null;
}

export interface BenchResults {
  date: string;
  machine: { cpus: number; node: string; kernel: string };
  /** the command that reproduces this run */
  command: string;
  load: { tool: string; threads: number; connections: number; seconds: number; rounds: number };
  arms: Partial<Record<Arm, ArmFigures>>;
  /** both arms at one offered rate: half of airlock FULL's own max req/s */
  halfLoad?: { offeredRps: number; delayMs: number; airlockFull: ArmFigures; nginx: ArmFigures };
  startup?: {
    helpMs?: number;
    /** `node -e 0` in the same environment: Node's own start, the floor of every CLI figure */
    nodeMs?: number;
    runTrueMs?: number;
    createTeardownMs?: number;
    createTeardownProcesses?: number;
  };
  /** SSE through airlock vs direct (sse.ts) */
  sse?: SseFigures;
  /** a large download and upload (bulk.ts) */
  bulk?: BulkFigures;
  /** the first call of a fresh sandbox (first-call.ts) */
  firstCall?: FirstCallFigures;
  /** many SSE streams at once through one sandbox (many-streams.ts) */
  manyStreams?: ManyStreamsFigures;
  /** a guest's connects/s to its proxy port with 1 vs 1,000 sandboxes' elements (per-packet.ts) */
  perPacket?: PerPacketFigures;
  targets: TargetRow[];
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function figures(rounds: readonly WrkRun[]): ArmFigures {
  return {
    rps: Math.round(median(rounds.map((r) => r.rps))),
    p50Ms: Number(median(rounds.map((r) => r.p50Ms)).toFixed(2)),
    p99Ms: Number(median(rounds.map((r) => r.p99Ms)).toFixed(2)),
    errors: rounds.reduce((n, r) => n + r.errors, 0),
    rounds: [...rounds],
  };
}

/** `order` rotated by `round`, so no arm always runs right after the same neighbour. */
export function roundOrder<T>(order: readonly T[], round: number): T[] {
  const k = order.length === 0 ? 0 : round % order.length;
  return [...order.slice(k), ...order.slice(0, k)];
}

/** One measurement of a case: requests per second and latency percentiles in ms. */
export interface CaseRun {
  rps: number;
  p50: number;
  p99: number;
}

/**
 * Every case measured once per round, each round starting at another case (so no case always
 * follows the same neighbour); the figures of each case, round by round.
 */
export async function interleavedRounds<T>(
  cases: Readonly<Record<string, T>>,
  rounds: number,
  measure: (c: T) => Promise<CaseRun>,
): Promise<Record<string, { rps: number[]; p50: number[]; p99: number[] }>> {
  const results: Record<string, { rps: number[]; p50: number[]; p99: number[] }> = {};
  for (const name of Object.keys(cases)) results[name] = { rps: [], p50: [], p99: [] };
  for (let round = 0; round < rounds; round++) {
    for (const [name, c] of roundOrder(Object.entries(cases), round)) {
      const r = await measure(c);
      results[name]!.rps.push(r.rps);
      results[name]!.p50.push(r.p50);
      results[name]!.p99.push(r.p99);
    }
  }
  return results;
}

const fmtRps = (n: number) =>
  n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : n >= 1000 ? `${(n / 1000).toFixed(2)}k` : `${n}`;
const fmtMs = (n: number) => `${n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0)} ms`;
/** a difference, signed */
const fmtDelta = (n: number) => `${n < 0 ? '−' : '+'}${fmtMs(Math.abs(n))}`;
const fmtRatio = (n: number) => `${n.toFixed(2)}×`;
const mark = (holds: boolean | null) => (holds === null ? '—' : holds ? '✓' : '✗');

/** The rows of issue 11's targets table, with what this run measured beside them. */
export function targetRows(r: Omit<BenchResults, 'targets'>): TargetRow[] {
  const { nginx, node, airlockFull } = r.arms;
  const rows: TargetRow[] = [];
  if (nginx && node && airlockFull) {
    const vsNginx = airlockFull.rps / nginx.rps;
    const vsNode = airlockFull.rps / node.rps;
    rows.push({
      figure: 'req/s, audit FULL, wrk in a sandbox',
      target: '≥ 0.5× nginx and ≥ 1.0× the bare Node passthrough',
      measured: `${fmtRps(airlockFull.rps)}: ${fmtRatio(vsNginx)} nginx, ${fmtRatio(vsNode)} Node`,
      holds: vsNginx >= 0.5 && vsNode >= 1,
    });
  } else {
    rows.push({ figure: 'req/s, audit FULL, wrk in a sandbox', target: '≥ 0.5× nginx and ≥ 1.0× the bare Node passthrough', measured: 'not measured', holds: null }); // prettier-ignore
  }
  const h = r.halfLoad;
  rows.push(
    h
      ? {
          figure: "p99 at half of airlock's own max load",
          target: "≤ 2× nginx's p99 at the same load",
          measured: `${fmtMs(h.airlockFull.p99Ms)} vs nginx ${fmtMs(h.nginx.p99Ms)} (${fmtRatio(h.airlockFull.p99Ms / h.nginx.p99Ms)}), paced to ~${fmtRps(h.offeredRps)} req/s`,
          holds: h.airlockFull.p99Ms <= 2 * h.nginx.p99Ms,
        }
      : { figure: "p99 at half of airlock's own max load", target: "≤ 2× nginx's p99 at the same load", measured: 'not measured', holds: null }, // prettier-ignore
  );
  rows.push(...streamRows(r));
  const s = r.startup ?? {};
  const timed = (figure: string, target: string, value: number | undefined, limit: number, note = '') =>
    rows.push({
      figure,
      target,
      measured: value === undefined ? 'not measured' : `${fmtMs(value)}${note}`,
      holds: value === undefined ? null : value <= limit,
    });
  const createFigure = 'sandbox create + teardown (engine)';
  const createTarget = 'p50 ≤ 50 ms; ≤ 10 processes spawned';
  if (s.createTeardownMs === undefined || s.createTeardownProcesses === undefined) {
    rows.push({ figure: createFigure, target: createTarget, measured: 'not measured', holds: null });
  } else {
    rows.push({
      figure: createFigure,
      target: createTarget,
      measured: `${fmtMs(s.createTeardownMs)} (p50), ${s.createTeardownProcesses} processes`,
      holds: s.createTeardownMs <= 50 && s.createTeardownProcesses <= 10,
    });
  }
  // Node's own start beside both: this VM's speed moves every figure of a start together
  const nodeStart = s.nodeMs === undefined ? '' : ` (\`node -e 0\`: ${fmtMs(s.nodeMs)})`;
  timed('`airlock run -- true` wall', 'median ≤ 250 ms', s.runTrueMs, 250, nodeStart);
  timed('`airlock --help` wall', 'median ≤ 150 ms', s.helpMs, 150, nodeStart);
  const perPacketFigure = '1 vs 1,000 sandboxes, per-packet';
  const perPacketTarget = 'within 5 % (today: flat — keep it)';
  const p = r.perPacket;
  rows.push(
    p
      ? {
          figure: perPacketFigure,
          target: perPacketTarget,
          measured: `${p.connectsPerSecondWith1.toLocaleString('en-US')} connects/s with 1, ${p.connectsPerSecondWith1000.toLocaleString('en-US')} with 1,000 (${fmtRatio(p.ratio)}), median of ${p.rounds}`,
          holds: p.ratio >= 0.95,
        }
      : notMeasured(perPacketFigure, perPacketTarget),
  );
  return rows;
}

/** the targets' MB: 10^6 bytes, as issue 11 counts them */
const MB = 1e6;
const MiB = 2 ** 20;
const fmtMiB = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
const notMeasured = (figure: string, target: string): TargetRow => ({ figure, target, measured: 'not measured', holds: null }); // prettier-ignore

/** The target rows of the streaming figures: SSE, bodies, first call, many streams. */
export function streamRows(r: Pick<BenchResults, 'sse' | 'bulk' | 'firstCall' | 'manyStreams'>): TargetRow[] {
  const sseTarget = 'added time to first byte ≤ 1 ms; no event more than 5 ms later than direct';
  const bulkTarget = '≥ 0.5× direct throughput each way; engine RSS growth ≤ 16 MB';
  const firstTarget = 'added time to first byte ≤ 5 ms over direct';
  const manyTarget = '≤ 300 MB RSS for the engine';
  const rows: TargetRow[] = [];
  const { sse, bulk, firstCall, manyStreams } = r;
  if (sse) {
    const ttfb = sse.ttfbMs.airlock - sse.ttfbMs.direct;
    const late = sse.latenessP99Ms.airlock - sse.latenessP99Ms.direct;
    rows.push({
      figure: 'SSE',
      target: sseTarget,
      measured: `first byte ${fmtDelta(ttfb)}; event lateness p99 ${fmtMs(sse.latenessP99Ms.airlock)} vs ${fmtMs(sse.latenessP99Ms.direct)} direct (${fmtDelta(late)})`,
      holds: ttfb <= 1 && late <= 5,
    });
  } else rows.push(notMeasured('SSE', sseTarget));
  if (bulk) {
    const down = bulk.downloadMBps.airlock / bulk.downloadMBps.direct;
    const up = bulk.uploadMBps.airlock / bulk.uploadMBps.direct;
    rows.push({
      figure: `${Math.round(bulk.bytes / 1e6)} MB upload and download`,
      target: bulkTarget,
      measured: `down ${bulk.downloadMBps.airlock} MB/s (${fmtRatio(down)}), up ${bulk.uploadMBps.airlock} MB/s (${fmtRatio(up)}); RSS +${fmtMiB(bulk.rssGrowthBytes)}${bulk.coldRssGrowthBytes === undefined ? '' : ` (a fresh engine's first transfer: +${fmtMiB(bulk.coldRssGrowthBytes)})`}`,
      // a fresh engine's one-time growth counts too: the target is what a user's engine does
      holds:
        down >= 0.5 && up >= 0.5 && Math.max(bulk.rssGrowthBytes, bulk.coldRssGrowthBytes ?? 0) <= 16 * MB,
    });
  } else rows.push(notMeasured('100 MB upload and download', bulkTarget));
  if (firstCall) {
    const added = firstCall.ttfbMs.airlock - firstCall.ttfbMs.direct;
    rows.push({
      figure: 'first call of a new sandbox',
      target: firstTarget,
      measured: `${fmtMs(firstCall.ttfbMs.airlock)} vs ${fmtMs(firstCall.ttfbMs.direct)} direct (${fmtDelta(added)}), median of ${firstCall.sandboxes}`,
      holds: added <= 5,
    });
  } else rows.push(notMeasured('first call of a new sandbox', firstTarget));
  if (manyStreams) {
    const all = manyStreams.opened === manyStreams.streams;
    rows.push({
      figure: `${manyStreams.streams.toLocaleString('en-US')} concurrent SSE streams`,
      target: manyTarget,
      measured: `${fmtMiB(manyStreams.rssPeakBytes)} peak (+${fmtMiB(manyStreams.rssPeakBytes - manyStreams.rssBeforeBytes)})${all ? '' : `; only ${manyStreams.opened} opened`}`,
      holds: all && manyStreams.rssPeakBytes <= 300 * MB,
    });
  } else rows.push(notMeasured('2,000 concurrent SSE streams', manyTarget));
  return rows;
}

/** A Markdown table, padded the way prettier pads it (so the docs stay `prettier --check` clean). */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(3, h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The throughput table: each arm's medians and its ratio to nginx. */
export function armsTable(r: Pick<BenchResults, 'arms'>): string {
  const nginx = r.arms.nginx?.rps;
  const rows = ARMS.flatMap((arm) => {
    const f = r.arms[arm];
    if (!f) return [];
    return [
      [
        ARM_LABELS[arm],
        fmtRps(f.rps),
        fmtMs(f.p50Ms),
        fmtMs(f.p99Ms),
        arm === 'direct' || nginx === undefined ? '—' : fmtRatio(f.rps / nginx),
        String(f.errors),
      ],
    ];
  });
  return markdownTable(['arm', 'req/s', 'p50', 'p99', 'vs nginx', 'errors'], rows);
}

export function targetsTable(rows: readonly TargetRow[]): string {
  return markdownTable(
    ['figure', 'target', 'measured', 'holds'],
    rows.map((t) => [t.figure, t.target, t.measured, mark(t.holds)]),
  );
}

/** The streaming figures, each side: what the target rows compare. */
export function streamsTable(r: Pick<BenchResults, 'sse' | 'bulk' | 'firstCall' | 'manyStreams'>): string {
  const rows: string[][] = [];
  const { sse, bulk, firstCall, manyStreams } = r;
  if (sse) {
    const what = `${sse.events} events ${sse.intervalMs} ms apart, ${sse.rounds} rounds`;
    rows.push([`SSE time to first byte (warm connection, median; ${what})`, fmtMs(sse.ttfbMs.direct), fmtMs(sse.ttfbMs.airlock)]); // prettier-ignore
    rows.push(['SSE event lateness, p99 over all events', fmtMs(sse.latenessP99Ms.direct), fmtMs(sse.latenessP99Ms.airlock)]); // prettier-ignore
  }
  if (bulk) {
    const mb = Math.round(bulk.bytes / 1e6);
    rows.push([`${mb} MB download (median of ${bulk.rounds})`, `${bulk.downloadMBps.direct} MB/s`, `${bulk.downloadMBps.airlock} MB/s`]); // prettier-ignore
    rows.push([`${mb} MB upload (median of ${bulk.rounds})`, `${bulk.uploadMBps.direct} MB/s`, `${bulk.uploadMBps.airlock} MB/s`]); // prettier-ignore
    if (bulk.engineCpuMs) {
      rows.push([`engine CPU time per ${mb} MB download / upload (median)`, '—', `${bulk.engineCpuMs.download} / ${bulk.engineCpuMs.upload} ms`]); // prettier-ignore
    }
    rows.push(['engine RSS growth during one transfer (largest)', '—', fmtMiB(bulk.rssGrowthBytes)]);
    if (bulk.coldRssGrowthBytes !== undefined) {
      rows.push([
        "the same, a fresh engine's first transfer (untimed)",
        '—',
        fmtMiB(bulk.coldRssGrowthBytes),
      ]);
    }
  }
  if (firstCall) {
    rows.push([`first call's time to first byte (median of ${firstCall.sandboxes} fresh sandboxes)`, fmtMs(firstCall.ttfbMs.direct), fmtMs(firstCall.ttfbMs.airlock)]); // prettier-ignore
  }
  if (manyStreams) {
    rows.push([`engine RSS with ${manyStreams.opened} of ${manyStreams.streams} SSE streams open (peak)`, '—', `${fmtMiB(manyStreams.rssPeakBytes)} (from ${fmtMiB(manyStreams.rssBeforeBytes)})`]); // prettier-ignore
  }
  return rows.length === 0 ? '' : markdownTable(['streams and bodies', 'direct', 'airlock'], rows);
}

/** The generated section of docs/benchmarks.md (between the markers). */
export function docsSection(r: BenchResults): string {
  const l = r.load;
  const parts = [
    '## `npm run bench`: airlock beside nginx, haproxy and a bare Node proxy',
    '',
    `Generated by \`${r.command}\` on ${r.date.slice(0, 10)} (${r.machine.cpus} CPUs, Node ${r.machine.node}, kernel ${r.machine.kernel}); do not edit by hand.`,
    `\`${l.tool} -t${l.threads} -c${l.connections} -d${l.seconds}s\`, ${l.rounds} interleaved rounds (each starts at another arm), medians;`,
    'the same 97-byte JSON answer from a local TLS upstream (nginx) and the same header injection in every proxy arm;',
    'wrk runs inside a sandbox for airlock and on loopback for the others.',
    '',
    armsTable(r),
    '',
  ];
  if (r.halfLoad) {
    const h = r.halfLoad;
    parts.push(
      `Half load: wrk has no fixed-rate mode (wrk2 is not packaged), so each of the ${l.connections} connections waits ${h.delayMs} ms`,
      `before each request, offering ~${fmtRps(h.offeredRps)} req/s (half of airlock FULL's max) to airlock FULL and nginx alike;`,
      `they served ${fmtRps(h.airlockFull.rps)} and ${fmtRps(h.nginx.rps)} req/s, p99 ${fmtMs(h.airlockFull.p99Ms)} and ${fmtMs(h.nginx.p99Ms)}.`,
      '',
    );
  }
  const streams = streamsTable(r);
  if (streams !== '') {
    parts.push(
      'Streams and bodies: a Node TLS upstream of its own, the same client program (a fresh process each time) on the host',
      "straight at it and inside a sandbox through airlock's reverse route (audit FULL); RSS and CPU time are the engine's,",
      'a process of its own running the library from dist/.',
      '',
      streams,
      '',
    );
  }
  parts.push("Issue 11's targets:", '', targetsTable(r.targets));
  return parts.join('\n');
}

export const SECTION_START = '<!-- bench:start -->';
export const SECTION_END = '<!-- bench:end -->';

/** `doc` with the text between the markers replaced (the markers and section appended when absent). */
export function replaceSection(doc: string, section: string): string {
  const block = `${SECTION_START}\n\n${section.trim()}\n\n${SECTION_END}`;
  const start = doc.indexOf(SECTION_START);
  const end = doc.indexOf(SECTION_END);
  if (start === -1 || end === -1 || end < start) return `${doc.trimEnd()}\n\n${block}\n`;
  return doc.slice(0, start) + block + doc.slice(end + SECTION_END.length);
}

/** What the terminal shows at the end of a run. */
export function terminalReport(r: BenchResults): string {
  const streams = streamsTable(r);
  return [armsTable(r), '', ...(streams ? [streams, ''] : []), targetsTable(r.targets), '', `reproduce: ${r.command}`].join('\n'); // prettier-ignore
}
