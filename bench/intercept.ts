/**
 * What TLS interception costs a request (issue 13, part 5): the same small JSON call to a TLS
 * stand-in for api.openai.com on loopback, through airlock's proxy (in its own process, an
 * in-memory audit sink) by (a) the base-URL route `/proxy/openai/…`, (b) an intercepted
 * `CONNECT` kept alive (undici's ProxyAgent: one tunnel and one TLS handshake per connection,
 * as `gh` or an SDK behind `HTTPS_PROXY` do), and (c) a new intercepted tunnel per request
 * (CONNECT + TLS handshake every time, as one `curl` per call does). Interleaved rounds,
 * medians. The stand-in listens on 127.0.0.77:443 (the proxy dials the CONNECT target's port),
 * so it runs as root. Loopback only. `npm run bench:intercept [-- --seconds N]`; short by design.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Agent, ProxyAgent, request, type Dispatcher } from 'undici';
import { createFakeUpstream } from '../test/helpers/fake-upstream.js';
import { builtin, makeCredentials } from '../test/helpers/proxy-bench.js';
import { createTestCa } from '../test/helpers/test-ca.js';
import { interleavedRounds, median } from './compare/report.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '1.5' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '16' },
  },
});
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const CONCURRENCY = Number(values.concurrency);
const STAND_IN = '127.0.0.77';
const ROOT = fileURLToPath(new URL('..', import.meta.url));

if (process.getuid?.() !== 0) {
  console.error('npm run bench:intercept listens on port 443 of a loopback address: run it as root');
  process.exit(1);
}

const cleanups: (() => unknown)[] = [];
const t = { after: (fn: () => unknown) => cleanups.push(fn) };

/** Requests/s and latency percentiles in `ms` of `send` from CONCURRENCY loops for SECONDS. */
async function measure(send: () => Promise<void>): Promise<{ rps: number; p50: number; p99: number }> {
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await send();
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => Number(latencies[Math.floor((latencies.length - 1) * p)]!.toFixed(2));
  return { rps: Math.round(latencies.length / seconds), p50: pct(0.5), p99: pct(0.99) };
}

try {
  const ca = createTestCa(t);
  const openai = builtin('openai');
  await createFakeUpstream({
    ca,
    hostnames: openai.hosts,
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    },
    listen: { host: STAND_IN, port: 443 },
    t,
  });
  const credentials = makeCredentials([openai]);
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/proxy-process.ts'], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  cleanups.push(() => child.stdin.end());
  child.stdin.write(
    `${JSON.stringify({
      sandboxId: 'bench-intercept',
      services: [openai],
      credentials,
      resolve: { 'api.openai.com': STAND_IN },
      upstreamCa: [ca.caPem],
      intercept: true,
    })}\n`,
  );
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  const { port, caPem } = JSON.parse(line) as { port: number; caPem: string };
  const proxyUrl = `http://127.0.0.1:${port}`;
  const placeholder = credentials.openai!.placeholder;

  const baseUrl = new Agent();
  const tunnel = new ProxyAgent({ uri: proxyUrl, requestTls: { ca: caPem } });
  cleanups.push(
    () => baseUrl.close(),
    () => tunnel.close(),
  );
  const call = async (url: string, dispatcher: Dispatcher) => {
    const res = await request(url, { dispatcher, headers: { authorization: `Bearer ${placeholder}` } });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
  };
  const cases: Record<string, () => Promise<void>> = {
    baseUrl: () => call(`${proxyUrl}/proxy/openai/v1/models`, baseUrl),
    interceptedKeptAlive: () => call('https://api.openai.com/v1/models', tunnel),
    interceptedNewTunnel: async () => {
      const once = new ProxyAgent({ uri: proxyUrl, requestTls: { ca: caPem } });
      try {
        await call('https://api.openai.com/v1/models', once);
      } finally {
        await once.close();
      }
    },
  };
  for (const send of Object.values(cases)) await send(); // warm: leaf minted, pools open

  const results = await interleavedRounds(cases, ROUNDS, measure);
  const base = median(results.baseUrl!.rps);
  const table = Object.fromEntries(
    Object.entries(results).map(([name, r]) => [
      name,
      {
        rps: median(r.rps),
        p50ms: median(r.p50),
        p99ms: median(r.p99),
        vsBaseUrl: Number((median(r.rps) / base).toFixed(2)),
      },
    ]),
  );
  console.log(
    JSON.stringify({ seconds: SECONDS, rounds: ROUNDS, concurrency: CONCURRENCY, ...table }, null, 2),
  );
} finally {
  for (const fn of cleanups.reverse()) await fn();
}
