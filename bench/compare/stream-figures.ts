/**
 * The streaming figures of `npm run bench` from the clients' raw results, as pure functions.
 * Every time a client reports is its own clock after its request started, and the upstream
 * stamps each event with its own clock after its response started: differences are taken
 * within one process only, never across two clocks.
 */
import { median } from './report.js';

/** One SSE event as the client saw it: the upstream's send stamp and the client's arrival time. */
export interface SseEvent {
  i: number;
  sentMs: number;
  atMs: number;
}

/** One SSE stream: its first body byte and every event, in ms after the request started. */
export interface SseStream {
  ttfbMs: number;
  events: SseEvent[];
}

/** A pair of figures measured on both sides. */
export interface Sides {
  direct: number;
  airlock: number;
}

export interface SseFigures {
  events: number;
  intervalMs: number;
  rounds: number;
  /** median time to the first body byte (warm connections) */
  ttfbMs: Sides;
  /** p99 over every event of every round of its lateness (see eventLateness) */
  latenessP99Ms: Sides;
}

export interface BulkFigures {
  bytes: number;
  rounds: number;
  /** median MB/s (10^6 bytes) */
  downloadMBps: Sides;
  uploadMBps: Sides;
  /** median CPU time of the engine process per transfer through airlock (ms; all its threads) */
  engineCpuMs?: { download: number; upload: number };
  /** the largest growth of the engine process's RSS during one measured transfer through airlock */
  rssGrowthBytes: number;
  /**
   * the same during the engine's first transfer each way, before the measured rounds (not
   * timed): what a fresh engine grows by once, compiling its body path and growing its heap
   */
  coldRssGrowthBytes?: number;
}

export interface FirstCallFigures {
  /** fresh sandboxes, one first call each (and as many fresh direct clients) */
  sandboxes: number;
  /** median time to the first body byte of a client's first request */
  ttfbMs: Sides;
}

export interface ManyStreamsFigures {
  streams: number;
  /** streams that got their first event (all held open at once) */
  opened: number;
  rssBeforeBytes: number;
  /** the engine process's largest RSS while they were open */
  rssPeakBytes: number;
}

/** The value at or below which `p` % of `xs` lie (nearest rank). */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * How much later than event 0 each later event arrived, beyond how much later the upstream
 * sent it: `(atₖ − at₀) − (sentₖ − sent₀)`. Zero when nothing between held an event back.
 */
export function eventLateness(s: SseStream): number[] {
  const [first, ...rest] = s.events;
  if (first === undefined) return [];
  return rest.map((e) => e.atMs - first.atMs - (e.sentMs - first.sentMs));
}

const round3 = (n: number) => Number(n.toFixed(3));

export function sseFigures(
  direct: readonly SseStream[],
  airlock: readonly SseStream[],
  o: { events: number; intervalMs: number },
): SseFigures {
  const side = (streams: readonly SseStream[]) => ({
    ttfb: round3(median(streams.map((s) => s.ttfbMs))),
    lateness: round3(percentile(streams.flatMap(eventLateness), 99)),
  });
  const d = side(direct);
  const a = side(airlock);
  return {
    ...o,
    rounds: Math.min(direct.length, airlock.length),
    ttfbMs: { direct: d.ttfb, airlock: a.ttfb },
    latenessP99Ms: { direct: d.lateness, airlock: a.lateness },
  };
}

/** MB/s (10^6 bytes) of one transfer. */
export function mbPerSecond(bytes: number, ms: number): number {
  return Number((bytes / 1e6 / (ms / 1000)).toFixed(1));
}
