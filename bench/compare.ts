/**
 * `npm run bench` (as root): airlock beside nginx, haproxy and a bare Node proxy, in one run.
 * One TLS upstream on loopback (nginx answering a 97-byte JSON to requests carrying the real
 * key); arms: direct to it, nginx / haproxy / bare Node each swapping the key header, and
 * airlock with audit FULL and NORMAL (a real sandbox each, wrk inside it against
 * `$X_BASE_URL`). `wrk -t1 -c32` in interleaved rounds, medians; then airlock FULL and nginx
 * at half of airlock's own max rate; then the start-up figures and the per-packet cost with 1
 * vs 1,000 sandboxes (`--no-per-packet` skips it). Before all that, the streaming figures,
 * with their engine in a process of its own run from dist/ (compare/streaming.ts: SSE, 100 MB
 * bodies, a new sandbox's first call, 2,000 streams at once; `--no-sse`, `--no-bulk`,
 * `--no-first-call`, `--no-many-streams` skip one; `--no-wrk` skips nginx, haproxy and every
 * wrk arm, and with them the start-up and per-packet figures, for a run of the streaming
 * figures alone). Prints the table beside
 * issue 11's targets, writes the JSON (`--out`) and the generated section of
 * docs/benchmarks.md (`--no-docs` to skip). `--only-startup` measures the start-up figures alone
 * (no wrk, nginx or haproxy; JSON only). Loopback and its own namespaces only.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openAirlockArm, shippedEngine, type AirlockArm } from './compare/airlock-arm.js';
import { haproxyConfig, proxyNginxConfig, startNative } from './compare/native-servers.js';
import {
  ARMS,
  docsSection,
  figures,
  replaceSection,
  roundOrder,
  targetRows,
  terminalReport,
  type Arm,
  type BenchResults,
} from './compare/report.js';
import { freePort, startBenchUpstream, startNodePassthrough } from './compare/bench-upstream.js';
import { createTeardown, helpWallMs, runTrueWallMs } from './compare/startup.js';
import { measureStreaming } from './compare/streaming.js';
import { buildDist, ensureBenchTools } from './compare/tools.js';
import type { Engine } from '../src/engine/engine.js';
import { openState } from '../src/sandbox/state.js';
import { measurePerPacket, type PerPacketFigures } from './compare/per-packet.js';
import { delayForRate, localWrk, WRK_SCRIPT, type WrkOptions, type WrkRun } from './compare/wrk.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OPTIONS = {
  rounds: { type: 'string', default: '3' },
  seconds: { type: 'string', default: '5' },
  connections: { type: 'string', default: '32' },
  out: { type: 'string', default: join(ROOT, 'bench', 'results.json') },
  docs: { type: 'string', default: join(ROOT, 'docs', 'benchmarks.md') },
  'no-docs': { type: 'boolean', default: false },
  'no-startup': { type: 'boolean', default: false },
  'only-startup': { type: 'boolean', default: false },
  'no-build': { type: 'boolean', default: false },
  'no-sse': { type: 'boolean', default: false },
  'no-bulk': { type: 'boolean', default: false },
  'no-first-call': { type: 'boolean', default: false },
  'no-many-streams': { type: 'boolean', default: false },
  'no-per-packet': { type: 'boolean', default: false },
  'no-wrk': { type: 'boolean', default: false },
  'bulk-mb': { type: 'string', default: '100' },
  streams: { type: 'string', default: '2000' },
  'first-calls': { type: 'string', default: '5' },
  pool: { type: 'string', default: '10.238.0.0/16' },
} as const;
const { values: opts } = parseArgs({ options: OPTIONS });
const ROUNDS = Number(opts.rounds);
const SECONDS = Number(opts.seconds);
const CONNECTIONS = Number(opts.connections);
const THREADS = 1;
const HOST = 'api.bench.test';
const HEADER = 'x-api-key';

if (process.getuid?.() !== 0) {
  console.error('npm run bench builds sandboxes: run it as root (sudo npm run bench)');
  process.exit(1);
}
if (!opts['only-startup']) ensureBenchTools();

const cleanups: (() => unknown)[] = [];
async function cleanup(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      await fn();
    } catch (error) {
      console.error('cleanup:', error);
    }
  }
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void cleanup().finally(() => process.exit(130)));
}

function log(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

try {
  if (!opts['no-build']) {
    log('building dist/ (the engine and the CLI run as they ship)…');
    buildDist();
  }
  if (opts['only-startup']) {
    const home = mkdtempSync(join(tmpdir(), 'airlock-bench-startup-'));
    cleanups.push(() => rmSync(home, { recursive: true, force: true }));
    const { Engine, parseConfig } = await shippedEngine();
    const engine = await Engine.open({ home, config: parseConfig({ pool: opts.pool }) });
    cleanups.push(() => engine.close());
    const startup = await startupFigures(engine);
    const results = {
      date: new Date().toISOString(),
      machine: machine(),
      command: 'sudo npm run bench -- --only-startup',
      startup,
    };
    writeFileSync(opts.out, `${JSON.stringify(results, null, 2)}\n`);
    console.log(JSON.stringify(startup, null, 2));
    log(`wrote ${opts.out}`);
    process.exitCode = 0;
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    chmodSync(dir, 0o755); // nginx's workers run as nobody and need to traverse it
    const defer = (fn: () => unknown) => void cleanups.push(fn);
    const { up, ca, leaf } = await startBenchUpstream(dir, HOST, HEADER, defer);
    writeFileSync(join(dir, 'wrk.lua'), WRK_SCRIPT);
    const script = join(dir, 'wrk.lua');
    const sub = (name: string) => {
      const d = join(dir, name);
      mkdirSync(d, { mode: 0o755 });
      return d;
    };
    const wrkArms = !opts['no-wrk'];
    const ngDir = sub('nginx');
    const nginxPort = await freePort();
    const haproxyPort = await freePort();
    if (wrkArms) {
      const nginx = await startNative('nginx', ngDir, proxyNginxConfig(ngDir, nginxPort, up), nginxPort);
      cleanups.push(() => nginx.stop());
      const haproxy = await startNative(
        'haproxy',
        sub('haproxy'),
        haproxyConfig(haproxyPort, up),
        haproxyPort,
      );
      cleanups.push(() => haproxy.stop());
    }
    // first, before the wrk arms load the machine
    const streaming = await measureStreaming(up, leaf, opts.pool, {
      rounds: ROUNDS,
      sse: !opts['no-sse'],
      bulkBytes: opts['no-bulk'] ? 0 : Number(opts['bulk-mb']) * 1e6,
      firstCalls: opts['no-first-call'] ? 0 : Number(opts['first-calls']),
      streams: opts['no-many-streams'] ? 0 : Number(opts.streams),
      log,
      defer,
    });
    let armFigures: BenchResults['arms'] = {};
    let halfLoad: BenchResults['halfLoad'];
    let startup: BenchResults['startup'];
    let perPacket: PerPacketFigures | undefined;
    if (wrkArms) {
      const { port: nodePort } = await startNodePassthrough(up, ca.caPem, defer);
      log('starting the airlock engines and their sandboxes…');
      const airlock: Record<'FULL' | 'NORMAL', AirlockArm> = {} as Record<'FULL' | 'NORMAL', AirlockArm>;
      for (const mode of ['FULL', 'NORMAL'] as const) {
        airlock[mode] = await openAirlockArm(up, opts.pool, mode);
        cleanups.push(() => airlock[mode].close());
      }

      const placeholder = `${HEADER}: sk-placeholder-the-proxy-replaces`;
      const arms: Record<Arm, (o: Omit<WrkOptions, 'url' | 'headers' | 'script'>) => Promise<WrkRun>> = {
        // (wrk adds a second Host header unless its own is spelled `Host`)
        direct: (o) =>
          localWrk(
            `https://127.0.0.1:${up.port}/v1/bench`,
            [`Host: ${HOST}`, `${HEADER}: ${up.secret}`],
            script,
            o,
          ),
        nginx: (o) => localWrk(`http://127.0.0.1:${nginxPort}/v1/bench`, [placeholder], script, o),
        haproxy: (o) => localWrk(`http://127.0.0.1:${haproxyPort}/v1/bench`, [placeholder], script, o),
        node: (o) => localWrk(`http://127.0.0.1:${nodePort}/v1/bench`, [placeholder], script, o),
        airlockFull: (o) => airlock.FULL.wrk(o),
        airlockNormal: (o) => airlock.NORMAL.wrk(o),
      };
      const load = { threads: THREADS, connections: CONNECTIONS };

      // a short warm-up of each arm, which also proves every arm answers 200 (the upstream
      // refuses a request without the real key)
      for (const arm of ARMS) {
        const r = await arms[arm]({ ...load, seconds: 1 });
        if (r.requests === 0 || r.errors > 0) {
          throw new Error(`arm ${arm} is broken: ${r.errors} errors in ${r.requests} requests`);
        }
      }

      const runs = Object.fromEntries(ARMS.map((a) => [a, [] as WrkRun[]])) as Record<Arm, WrkRun[]>;
      for (let round = 0; round < ROUNDS; round++) {
        for (const arm of roundOrder(ARMS, round)) {
          const r = await arms[arm]({ ...load, seconds: SECONDS });
          runs[arm].push(r);
          log(
            `round ${round + 1}/${ROUNDS} ${arm}: ${r.rps} req/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, ${r.errors} errors`,
          );
        }
      }
      armFigures = Object.fromEntries(ARMS.map((a) => [a, figures(runs[a])]));

      // half load: the same delay per request on every connection, for airlock FULL and nginx
      const offeredRps = Math.round(armFigures.airlockFull!.rps / 2);
      const delayMs = delayForRate(offeredRps, CONNECTIONS);
      const half: Record<'airlockFull' | 'nginx', WrkRun[]> = { airlockFull: [], nginx: [] };
      for (let round = 0; round < ROUNDS; round++) {
        for (const arm of roundOrder(['airlockFull', 'nginx'] as const, round)) {
          const r = await arms[arm]({ ...load, seconds: SECONDS, delayMs });
          half[arm].push(r);
          log(`half load ${round + 1}/${ROUNDS} ${arm}: ${r.rps} req/s, p99 ${r.p99Ms} ms`);
        }
      }

      halfLoad = { offeredRps, delayMs, airlockFull: figures(half.airlockFull), nginx: figures(half.nginx) };
      if (!opts['no-startup']) startup = await startupFigures(airlock.FULL.engine);
      if (!opts['no-per-packet']) perPacket = await perPacketFigures();
    }

    // the sizes of the streaming figures when not the defaults
    const sizes = (['bulk-mb', 'streams', 'first-calls'] as const).flatMap((k) =>
      opts[k] === undefined || opts[k] === OPTIONS[k].default ? [] : [`--${k} ${opts[k]}`],
    );
    const command = [`sudo npm run bench -- --rounds ${ROUNDS} --seconds ${SECONDS} --connections ${CONNECTIONS}`, ...sizes].join(' '); // prettier-ignore
    const base: Omit<BenchResults, 'targets'> = {
      date: new Date().toISOString(),
      machine: machine(),
      command,
      load: { tool: 'wrk', threads: THREADS, connections: CONNECTIONS, seconds: SECONDS, rounds: ROUNDS },
      arms: armFigures,
      ...(halfLoad ? { halfLoad } : {}),
      ...(startup ? { startup } : {}),
      ...(perPacket ? { perPacket } : {}),
      ...streaming,
    };
    const results: BenchResults = { ...base, targets: targetRows(base) };
    writeFileSync(opts.out, `${JSON.stringify(results, null, 2)}\n`);
    if (!opts['no-docs']) {
      writeFileSync(opts.docs, replaceSection(readFileSync(opts.docs, 'utf8'), docsSection(results)));
    }
    console.log(terminalReport(results));
    log(`wrote ${opts.out}${opts['no-docs'] ? '' : ` and ${opts.docs}`}`);
  }
} finally {
  await cleanup();
}

function machine(): BenchResults['machine'] {
  return { cpus: cpus().length, node: process.versions.node, kernel: release() };
}

/** The start-up figures: the compiled CLI's wall times, and `engine`'s sandbox create + teardown. */
async function startupFigures(engine: Engine): Promise<NonNullable<BenchResults['startup']>> {
  const bin = join(ROOT, 'dist', 'bin', 'airlock.js');
  log('start-up figures…');
  const runHome = mkdtempSync(join(tmpdir(), 'airlock-bench-run-'));
  cleanups.push(() => rmSync(runHome, { recursive: true, force: true }));
  const created = await createTeardown(engine, 11);
  return {
    ...helpWallMs(bin, 11),
    runTrueMs: runTrueWallMs(bin, 5, runHome, opts.pool),
    createTeardownMs: created.ms,
    createTeardownProcesses: created.processes,
  };
}

/** A guest's connects/s to its proxy port with 1 vs 1,000 sandboxes' elements (per-packet.ts). */
async function perPacketFigures(): Promise<PerPacketFigures> {
  log('per-packet cost with 1 vs 1,000 sandboxes…');
  const home = mkdtempSync(join(tmpdir(), 'airlock-bench-nft-'));
  const state = openState(home);
  try {
    return await measurePerPacket(state, { pool: opts.pool, rounds: ROUNDS, connects: 2000 });
  } finally {
    state.close();
    rmSync(home, { recursive: true, force: true });
  }
}
