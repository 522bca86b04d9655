/**
 * What the proxy costs a request: the same small JSON call to a TLS upstream on loopback,
 * (a) straight from undici, (b) through airlock's proxy (injection, scrubbing) running in its
 * own process with an in-memory audit sink, (c) the same with the real audit writer (SQLite,
 * synchronous=FULL, group commit). The load generator and the upstream share one process. Reported as requests/s and latency percentiles, and as ratios to (a), from
 * interleaved rounds in one run. Loopback only. `npm run bench:proxy`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startBench } from '../test/helpers/proxy-bench.js';

const REQUESTS = 3000;
const CONCURRENCY = 16;
const ROUNDS = 3;

const cleanups: (() => unknown)[] = [];
const t = { after: (fn: () => unknown) => cleanups.push(fn) };

async function measure(send: () => Promise<void>): Promise<{ rps: number; p50: number; p99: number }> {
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < REQUESTS) {
        const t0 = performance.now();
        await send();
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => Number(latencies[Math.floor((latencies.length - 1) * p)]!.toFixed(2));
  return { rps: Math.round(REQUESTS / seconds), p50: pct(0.5), p99: pct(0.99) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  const bench = await startBench(t, { services: ['openai'] });
  const home = mkdtempSync(join(tmpdir(), 'airlock-bench-audit-'));
  cleanups.push(() => rmSync(home, { recursive: true, force: true }));
  const proxyUrl = async (withSqlite: boolean): Promise<string> => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./proxy-process.ts', import.meta.url))],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    cleanups.push(() => child.stdin.end());
    child.stdin.write(
      `${JSON.stringify({
        sandboxId: withSqlite ? 'bench-sqlite' : 'bench',
        services: bench.services,
        credentials: bench.credentials,
        resolve: { 'api.openai.com': '127.0.0.1' },
        upstreamCa: [bench.ca.caPem],
        ...(withSqlite ? { home } : {}),
      })}\n`,
    );
    const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    return `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
  };
  const plainProxy = await proxyUrl(false);
  const sqliteProxy = await proxyUrl(true);

  const direct = new Agent({ connect: { ca: bench.ca.caPem, servername: 'api.openai.com' } });
  const viaProxy = new Agent();
  cleanups.push(() => direct.close());
  cleanups.push(() => viaProxy.close());
  const cred = bench.cred('openai');
  const call = (dispatcher: Agent, url: string, key: string) => async () => {
    const res = await request(url, {
      dispatcher,
      headers: { authorization: `Bearer ${key}`, host: 'api.openai.com' },
    });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
  };
  const cases = {
    direct: call(direct, `https://127.0.0.1:${bench.upstream.port}/v1/models`, cred.secret),
    proxy: call(viaProxy, `${plainProxy}/proxy/openai/v1/models`, cred.placeholder),
    proxyWithSqliteAudit: call(viaProxy, `${sqliteProxy}/proxy/openai/v1/models`, cred.placeholder),
  };
  const results: Record<string, { rps: number[]; p50: number[]; p99: number[] }> = {};
  for (const name of Object.keys(cases)) results[name] = { rps: [], p50: [], p99: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, send] of Object.entries(cases)) {
      const r = await measure(send);
      results[name]!.rps.push(r.rps);
      results[name]!.p50.push(r.p50);
      results[name]!.p99.push(r.p99);
    }
  }
  const base = median(results.direct!.rps);
  const table = Object.fromEntries(
    Object.entries(results).map(([name, r]) => [
      name,
      {
        rps: median(r.rps),
        p50ms: median(r.p50),
        p99ms: median(r.p99),
        throughputVsDirect: Number((median(r.rps) / base).toFixed(3)),
      },
    ]),
  );
  console.log(
    JSON.stringify({ requests: REQUESTS, concurrency: CONCURRENCY, rounds: ROUNDS, ...table }, null, 2),
  );
} finally {
  for (const fn of cleanups.reverse()) await fn();
}
