import type { ProxyLimits, ProxyTimeouts } from '../types.js';

/**
 * The proxy's time limits when the caller leaves them out (the one definition: the config
 * file's `timeouts` fall back to these). They fit long LLM calls: a reasoning model may think
 * for minutes before its headers, and an SSE stream may sit quiet between events.
 */
export const DEFAULT_TIMEOUTS: Required<ProxyTimeouts> = {
  connect: 10_000,
  headers: 10 * 60_000,
  bodyIdle: 10 * 60_000,
  clientHeaders: 30_000,
  clientRequest: 15 * 60_000,
};

/** The per-sandbox limits when the caller leaves them out (the config's `limits` fall back to these). */
export const DEFAULT_LIMITS: Required<ProxyLimits> = {
  requestsPerSecond: 500,
  requestBurst: 1000,
  refusalsPerSecond: 10,
  refusalBurst: 100,
  connections: 1024,
};

/** Fills in what `given` leaves out (or leaves undefined) from a component's defaults. */
export function withDefaults<T extends object>(defaults: Required<T>, given: T | undefined): Required<T> {
  const out = { ...defaults };
  for (const [key, value] of Object.entries(given ?? {})) {
    if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  }
  return out;
}
