/**
 * wrk, the native load generator of `npm run bench`: its arguments, the Lua script that makes
 * it print one machine-readable line, and the parser of that line. wrk is closed-loop: each
 * connection sends its next request when the previous answer is in. With a `delayMs` every
 * connection waits that long before each request, which caps the rate near
 * `connections × 1000 / (delayMs + latency)`: how the bench offers "half load" without wrk2.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';

/** Lua for `wrk -s`: an optional per-request delay (first script argument, ms) and a JSON summary line. */
export const WRK_SCRIPT = `
init = function(args)
  if args[1] ~= nil then
    local ms = tonumber(args[1])
    delay = function() return ms end
  end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKJSON {\\"requests\\":%d,\\"durationUs\\":%d,\\"p50Us\\":%d,\\"p99Us\\":%d,\\"maxUs\\":%d,\\"connect\\":%d,\\"read\\":%d,\\"write\\":%d,\\"status\\":%d,\\"timeout\\":%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
`;

export interface WrkOptions {
  url: string;
  /** length of the run in `s` */
  seconds: number;
  /** open connections, shared by the threads */
  connections: number;
  threads: number;
  /** request headers, `name: value` */
  headers: readonly string[];
  /** path of WRK_SCRIPT as wrk will see it */
  script: string;
  /** wait before each request on a connection, in `ms` (omitted = none: as fast as answers come) */
  delayMs?: number;
}

/** One wrk run. */
export interface WrkRun {
  requests: number;
  /** requests per second over the run */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** connect, read, write and time-out errors plus non-2xx/3xx answers */
  errors: number;
}

export function wrkArgs(o: WrkOptions): string[] {
  return [
    `-t${o.threads}`,
    `-c${o.connections}`,
    `-d${o.seconds}s`,
    '-s',
    o.script,
    ...o.headers.flatMap((h) => ['-H', h]),
    o.url,
    ...(o.delayMs === undefined ? [] : ['--', String(o.delayMs)]),
  ];
}

/** The per-connection delay that offers about `rate` requests/s over `connections` (whole ms, ≥ 1). */
export function delayForRate(rate: number, connections: number): number {
  return Math.max(1, Math.round((connections * 1000) / rate));
}

/** Reads the WRKJSON line of a run's output; throws with the output when there is none. */
export function parseWrk(output: string): WrkRun {
  const line = output.split('\n').find((l) => l.startsWith('WRKJSON '));
  if (line === undefined) throw new Error(`wrk printed no summary:\n${output}`);
  const r = JSON.parse(line.slice('WRKJSON '.length)) as Record<
    | 'requests'
    | 'durationUs'
    | 'p50Us'
    | 'p99Us'
    | 'maxUs'
    | 'connect'
    | 'read'
    | 'write'
    | 'status'
    | 'timeout',
    number
  >;
  const ms = (us: number) => Number((us / 1000).toFixed(3));
  return {
    requests: r.requests,
    rps: Math.round(r.requests / (r.durationUs / 1e6)),
    p50Ms: ms(r.p50Us),
    p99Ms: ms(r.p99Us),
    maxMs: ms(r.maxUs),
    errors: r.connect + r.read + r.write + r.status + r.timeout,
  };
}

/** wrk on loopback against `url`; throws when it fails. */
export async function localWrk(
  url: string,
  headers: readonly string[],
  script: string,
  o: Omit<WrkOptions, 'url' | 'headers' | 'script'>,
): Promise<WrkRun> {
  const child = spawn('wrk', wrkArgs({ ...o, url, headers, script }), {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`wrk exited ${code}: ${out}`);
  return parseWrk(out);
}
