/** Request rates on endpoint rules, pure: `60/1m`, `1k/hour` (see docs/budgets.md#request-rates). */

/** At most `limit` requests per `windowMs`. */
export interface RequestRate {
  /** requests per window, a whole number above 0 */
  limit: number;
  /** window length in ms */
  windowMs: number;
}

const WINDOW_WORDS: Record<string, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
};

/** Window units, largest last (formatWindow walks them from the largest). */
const WINDOW_UNITS: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/** A window in ms from `30m`, `1h`, `1d`, `2w`, `minute`, `hour`, `day` or `week`; undefined if none of these. */
export function parseWindow(window: string): number | undefined {
  if (Object.hasOwn(WINDOW_WORDS, window)) return WINDOW_WORDS[window];
  const m = /^([0-9]{1,6})([smhdw])$/.exec(window);
  const ms = m ? Number(m[1]) * WINDOW_UNITS[m[2]!]! : 0;
  return ms > 0 ? ms : undefined;
}

/** `3600000` → `1h`: the largest unit that divides the window. */
export function formatWindow(ms: number): string {
  for (const [unit, size] of Object.entries(WINDOW_UNITS).reverse()) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** Parses `COUNT/WINDOW` (`60/1m`, `1k/hour`); a reason when it is not one. */
export function parseRate(text: string): { ok: true; rate: RequestRate } | { ok: false; reason: string } {
  const m = /^([0-9]{1,9})([kK]?)\/([0-9a-z]+)$/.exec(text);
  if (!m) return { ok: false, reason: `rate "${text}" is not COUNT/WINDOW, e.g. 60/1m or 1000/hour` };
  const limit = Number(m[1]) * (m[2] ? 1000 : 1);
  if (limit < 1) return { ok: false, reason: `rate "${text}": the count must be above 0` };
  const windowMs = parseWindow(m[3]!);
  if (windowMs === undefined)
    return {
      ok: false,
      reason: `rate "${text}": window "${m[3]}": expected 30s, 1m, 1h, 1d, minute, hour, day or week`,
    };
  return { ok: true, rate: { limit, windowMs } };
}
