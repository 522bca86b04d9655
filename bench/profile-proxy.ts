/**
 * `npm run bench:profile` (as root): where the proxy's time goes. One airlock engine (audit
 * FULL) and the bare Node passthrough in front of the bench's nginx TLS upstream; wrk loads
 * each (inside a sandbox for airlock) and the figure is CPU time per request, which, unlike
 * req/s, holds still when other work shares the machine. airlock's run is sampled by V8's
 * profiler and the top self-time entries are printed (`--top N`). Loopback and its own
 * namespace only.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openAirlockArm } from './compare/airlock-arm.js';
import { startBenchUpstream, startNodePassthrough } from './compare/bench-upstream.js';
import { buildDist, ensureBenchTools } from './compare/tools.js';
import { localWrk, WRK_SCRIPT } from './compare/wrk.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values: opts } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '32' },
    top: { type: 'string', default: '25' },
    pool: { type: 'string', default: '10.239.0.0/16' },
    'cpu-profile': { type: 'string' },
    /** CPU time only, without V8's sampler (which itself costs the main thread) */
    'no-sample': { type: 'boolean', default: false },
  },
});
const SECONDS = Number(opts.seconds);
const LOAD = { threads: 1, connections: Number(opts.connections), seconds: SECONDS };
const HOST = 'api.bench.test';
const HEADER = 'x-api-key';

if (process.getuid?.() !== 0) {
  console.error('bench:profile builds a sandbox: run it as root');
  process.exit(1);
}
ensureBenchTools();
buildDist();

const cleanups: (() => unknown)[] = [];
/** clock ticks per second in /proc/<pid>/stat (USER_HZ, 100 on every Linux build that matters) */
const tick = 100;

/** user + system CPU of a process in ms */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / tick;
}

/** read-like and write-like system calls of a process so far (all its threads) */
function syscalls(pid: number | 'self'): { reads: number; writes: number } {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)`, 'm').exec(io)![1]);
  return { reads: field('syscr'), writes: field('syscw') };
}

/** system calls per request between two readings */
function perRequest(a: { reads: number; writes: number }, b: typeof a, requests: number): string {
  return `${((b.reads - a.reads) / requests).toFixed(2)} reads and ${((b.writes - a.writes) / requests).toFixed(2)} writes per request`;
}

/** CPU ms per thread of this process: `main`, and the others by thread id (the audit worker, libuv's pool, V8's helpers) */
function threadCpuMs(): Map<string, number> {
  const byThread = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended
    }
    const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    const name = Number(tid) === process.pid ? 'main' : `thread ${tid}`;
    byThread.set(`${name} user`, (Number(fields[11]) * 1000) / tick);
    byThread.set(`${name} system`, (Number(fields[12]) * 1000) / tick);
  }
  return byThread;
}

type SelfTime = { name: string; ms: number };

/** self time per function (name, file:line) from a V8 CPU profile, biggest first */
function topSelfTimes(profile: {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}): SelfTime[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const ms = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const file = url.replace(/^file:\/\//, '').replace(ROOT, '');
    const key = `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
    ms.set(key, (ms.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...ms].map(([name, t]) => ({ name, ms: t })).sort((a, b) => b.ms - a.ms);
}

try {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-profile-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  const defer = (fn: () => unknown) => void cleanups.push(fn);
  const { up, ca } = await startBenchUpstream(dir, HOST, HEADER, defer);
  const script = join(dir, 'wrk.lua');
  writeFileSync(script, WRK_SCRIPT);
  const node = await startNodePassthrough(up, ca.caPem, defer);
  const nodeWrk = () => localWrk(`http://127.0.0.1:${node.port}/v1/bench`, [`${HEADER}: x`], script, LOAD);

  const arm = await openAirlockArm(up, opts.pool, 'FULL');
  cleanups.push(() => arm.close());
  await arm.wrk({ ...LOAD, seconds: 1 }); // warm-up
  await nodeWrk();

  const before = process.cpuUsage();
  const threadsBefore = threadCpuMs();
  const ioBefore = syscalls('self');
  const session = new Session();
  session.connect();
  const sample = !opts['no-sample'];
  if (sample) {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
  }
  const airlockRun = await arm.wrk(LOAD);
  const profile = sample ? (await session.post('Profiler.stop')).profile : undefined;
  const used = process.cpuUsage(before);
  const threadsAfter = threadCpuMs();
  const ioAfter = syscalls('self');
  session.disconnect();
  if (opts['cpu-profile'] && profile) writeFileSync(opts['cpu-profile'], JSON.stringify(profile));

  const nodeBefore = processCpuMs(node.pid);
  const nodeIo = syscalls(node.pid);
  const nodeRun = await nodeWrk();
  const nodeMs = processCpuMs(node.pid) - nodeBefore;
  const nodeIoAfter = syscalls(node.pid);

  const airlockUs = ((used.user + used.system) / airlockRun.requests).toFixed(1);
  const nodeUs = ((nodeMs * 1000) / nodeRun.requests).toFixed(1);
  console.log(
    `airlock (audit FULL): ${airlockRun.rps} req/s, ${airlockUs} µs CPU per request (all threads), ${perRequest(ioBefore, ioAfter, airlockRun.requests)}`,
  );
  console.log(
    `bare Node passthrough: ${nodeRun.rps} req/s, ${nodeUs} µs CPU per request, ${perRequest(nodeIo, nodeIoAfter, nodeRun.requests)}`,
  );
  const perThread = [...threadsAfter]
    .map(
      ([name, ms]) => [name, ((ms - (threadsBefore.get(name) ?? 0)) * 1000) / airlockRun.requests] as const,
    )
    .filter(([, us]) => us >= 1)
    .sort((a, b) => b[1] - a[1]);
  console.log(
    `  per thread (µs CPU per request): ${perThread.map(([n, us]) => `${n} ${us.toFixed(0)}`).join(', ')}`,
  );
  if (profile) {
    const top = topSelfTimes(profile as Parameters<typeof topSelfTimes>[0]);
    const total = top.reduce((s, e) => s + e.ms, 0);
    console.log(`\nairlock main thread, top self time (of ${total.toFixed(0)} ms sampled):`);
    for (const e of top.slice(0, Number(opts.top))) {
      console.log(`${((100 * e.ms) / total).toFixed(1).padStart(5)} %  ${e.name}`);
    }
  }
} finally {
  for (const fn of cleanups.reverse()) {
    try {
      await fn();
    } catch (error) {
      console.error('cleanup:', error);
    }
  }
}
