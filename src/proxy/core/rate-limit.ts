/** A token bucket: `take()` is true while the rate (and burst) allow one more. */
export interface RateLimit {
  take(): boolean;
  /** the configured rate per second (0 = unlimited) */
  readonly perSecond: number;
}

/** A monotonic clock in ms (not `performance.now`: its first call loads perf_hooks, ~1.5 ms of a start). */
const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6;

/**
 * A token bucket holding up to `burst` tokens, refilled at `perSecond`; 0 means no limit.
 * `now` is a clock in ms (omitted = a monotonic one).
 */
export function createRateLimit(perSecond: number, burst: number, now = monotonicMs): RateLimit {
  let tokens = burst;
  let at = now();
  return {
    perSecond,
    take() {
      if (perSecond <= 0) return true;
      const t = now();
      tokens = Math.min(burst, tokens + ((t - at) * perSecond) / 1000);
      at = t;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}
