/**
 * What the proxy costs a request: the same call to a TLS upstream on loopback, (a) straight
 * from undici, (b) through airlock's proxy (policy, injection, scrubbing) running in its own
 * process with an in-memory audit sink, (c) the same with the real audit writer (SQLite,
 * synchronous=FULL, group commit). Two calls: a small JSON answer, and a 256 KiB JSON answer
 * full of escapes (`\n`, `\/`, `\u00e9`) that the secret scrubber has to read through. Reported
 * as requests/s and latency percentiles, and as ratios to (a), from interleaved rounds in one
 * run (medians; each round starts at another case). With `--baseline REF` the proxy of that git revision runs beside this one in the same
 * rounds (its columns end in `@REF`), and a micro-benchmark compares the two scrubbers' MB/s.
 * Loopback only. `npm run bench:proxy [-- --baseline REF]`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Transform } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { createSecretScrubber, type SecretReplacement } from '../src/proxy/index.js';
import type { UpstreamHandler } from '../test/helpers/fake-upstream.js';
import { startBench } from '../test/helpers/proxy-bench.js';
import { interleavedRounds, median } from './compare/report.js';

const REQUESTS = 3000;
const CONCURRENCY = 16;
const ROUNDS = 7;
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const { values } = parseArgs({ options: { baseline: { type: 'string' } } });
const cleanups: (() => unknown)[] = [];
const t = { after: (fn: () => unknown) => cleanups.push(fn) };

/** 256 KiB of the JSON an LLM streams back: text with newlines, URLs and accents, escaped. */
const LARGE = Buffer.from(
  JSON.stringify({
    text: Array.from({ length: 2600 }, (_, i) => `line ${i}: see https://example.com/a/b é\n`).join(''),
  })
    .replaceAll('/', '\\/')
    .replaceAll('é', '\\u00e9'),
);
const handler: UpstreamHandler = (req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(req.url?.endsWith('/large') ? LARGE : '{"ok":true}');
};

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

/** A checkout of `ref` in a temp folder, sharing this tree's node_modules. */
function checkout(ref: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-baseline-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const tar = join(dir, 'src.tar');
  execFileSync('git', ['-C', ROOT, 'archive', '--output', tar, ref]);
  execFileSync('tar', ['-x', '-f', tar, '-C', dir]);
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/** MB/s of a scrubber over 64 KiB chunks of LARGE (no secret in it: the common case); `make` gives one stream per body. */
async function scrubberThroughput(make: (r: SecretReplacement[]) => () => Transform): Promise<number> {
  const replacements = [
    { secret: `real-bench-CANARY-${'a1'.repeat(16)}`, placeholder: `sk-airlock-${'b2'.repeat(16)}` },
    { secret: `real/bench+CANARY=${'c3'.repeat(8)}&x y`, placeholder: `sk-airlock-${'d4'.repeat(16)}` },
  ];
  const chunks = Array.from({ length: 4 }, (_, i) => LARGE.subarray(i * 65_536, (i + 1) * 65_536));
  const rounds = 400;
  const started = performance.now();
  const perBody = make(replacements);
  for (let r = 0; r < rounds; r++) {
    const scrubber = perBody();
    scrubber.resume();
    for (const c of chunks) scrubber.write(c);
    scrubber.end();
    await once(scrubber, 'end');
  }
  const mb = (rounds * chunks.reduce((n, c) => n + c.length, 0)) / 1e6;
  return Math.round(mb / ((performance.now() - started) / 1000));
}

try {
  const bench = await startBench(t, { services: ['openai'], handler });
  const home = mkdtempSync(join(tmpdir(), 'airlock-bench-audit-'));
  cleanups.push(() => rmSync(home, { recursive: true, force: true }));
  const baseline = values.baseline ? { ref: values.baseline, dir: checkout(values.baseline) } : undefined;

  const proxyUrl = async (root: string, withSqlite: boolean): Promise<string> => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench', 'proxy-process.ts')], {
      cwd: root,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    cleanups.push(() => child.stdin.end());
    const db = mkdtempSync(join(home, 'db-'));
    child.stdin.write(
      `${JSON.stringify({
        sandboxId: withSqlite ? 'bench-sqlite' : 'bench',
        services: bench.services,
        credentials: bench.credentials,
        resolve: { 'api.openai.com': '127.0.0.1' },
        upstreamCa: [bench.ca.caPem],
        ...(withSqlite ? { home: db } : {}),
      })}\n`,
    );
    const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    return `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
  };
  const proxies: Record<string, string> = {
    proxy: await proxyUrl(ROOT, false),
    proxyWithSqliteAudit: await proxyUrl(ROOT, true),
  };
  if (baseline) {
    proxies[`proxy@${baseline.ref}`] = await proxyUrl(baseline.dir, false);
    proxies[`proxyWithSqliteAudit@${baseline.ref}`] = await proxyUrl(baseline.dir, true);
  }

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
  const cases: Record<string, () => Promise<void>> = {};
  for (const [size, path] of [
    ['small', '/v1/models'],
    ['large', '/v1/large'],
  ] as const) {
    cases[`${size}:direct`] = call(direct, `https://127.0.0.1:${bench.upstream.port}${path}`, cred.secret);
    for (const [name, url] of Object.entries(proxies)) {
      if (size === 'large' && name.startsWith('proxyWithSqliteAudit')) continue; // the body is what differs
      cases[`${size}:${name}`] = call(viaProxy, `${url}/proxy/openai${path}`, cred.placeholder);
    }
  }

  const results = await interleavedRounds(cases, ROUNDS, measure);
  const table = Object.fromEntries(
    Object.entries(results).map(([name, r]) => {
      const base = median(results[`${name.split(':')[0]}:direct`]!.rps);
      return [
        name,
        {
          rps: median(r.rps),
          p50ms: median(r.p50),
          p99ms: median(r.p99),
          throughputVsDirect: Number((median(r.rps) / base).toFixed(3)),
        },
      ];
    }),
  );
  // as each proxy runs it: compiled once per sandbox and a stream per body; the baseline built its scrubber per body
  const scrubber: Record<string, number> = {
    'MB/s': await scrubberThroughput((r) => {
      const compiled = createSecretScrubber(r);
      return () => compiled.stream();
    }),
  };
  if (baseline) {
    const old = (await import(pathToFileURL(join(baseline.dir, 'src/proxy/index.ts')).href)) as {
      createSecretScrubber: (r: SecretReplacement[]) => Transform;
    };
    scrubber[`MB/s@${baseline.ref}`] = await scrubberThroughput((r) => () => old.createSecretScrubber(r));
  }
  console.log(
    JSON.stringify(
      { requests: REQUESTS, concurrency: CONCURRENCY, rounds: ROUNDS, ...table, scrubber },
      null,
      2,
    ),
  );
} finally {
  for (const fn of cleanups.reverse()) await fn();
}
