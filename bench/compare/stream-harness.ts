/**
 * What the streaming figures of `npm run bench` share: the streaming TLS upstream in its own
 * process (stream-upstream.ts), an airlock engine in a process of its own (engine-host.mjs:
 * the library as built in dist/, as `airlock daemon` runs it) whose bench service points at
 * it, and the one client program (stream-client.mjs) run either on the host straight at the
 * upstream ("direct") or inside a sandbox against its reverse route — the same program, each
 * time a fresh process, so both sides pay the same client costs. The engine's RSS is read
 * from /proc/<its pid>/status: the engine's alone, not this process's (tsx, the bench).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PassThrough, type Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { BASE_URL_VAR, benchConfig, KEY_VAR } from './airlock-arm.js';
import type { UpstreamTarget } from './native-servers.js';
import type { StreamUpstreamSettings } from './stream-upstream.js';

const CLIENT = readFileSync(fileURLToPath(new URL('stream-client.mjs', import.meta.url)), 'utf8');
const UPSTREAM = fileURLToPath(new URL('stream-upstream.ts', import.meta.url));
const ENGINE_HOST = fileURLToPath(new URL('engine-host.mjs', import.meta.url));
/** where the direct client finds the real key */
const DIRECT_KEY_VAR = 'BENCH_UPSTREAM_KEY';

/** What one client run does (see stream-client.mjs). */
export type ClientMode =
  | { mode: 'sse'; n: number; intervalMs: number; warm: boolean }
  | { mode: 'download' | 'upload'; bytes: number }
  | { mode: 'many'; streams: number; holdMs: number };

/** A sandbox of the engine process, by its id. */
export interface SandboxRef {
  sandbox: string;
}

/** Where a client runs: on the host straight at the upstream, or inside this sandbox. */
export type ClientSide = 'direct' | SandboxRef;

/** A running client: its output and its exit status. */
export interface Client {
  stdout: Readable;
  stderr: Readable;
  exited: Promise<number>;
}

export interface StreamHarness {
  /** the sandbox granted the bench key that the figures use */
  sandbox: SandboxRef;
  /** a fresh sandbox granted the bench key, and its removal */
  createSandbox(): Promise<SandboxRef>;
  closeSandbox(ref: SandboxRef): Promise<void>;
  /** starts the client; its program already sent */
  spawnClient(side: ClientSide, mode: ClientMode): Client;
  /** runs the client to its end and returns its JSON result */
  runClient<T>(side: ClientSide, mode: ClientMode): Promise<T>;
  /**
   * the peak of the engine process's RSS while `work` runs (sampled every 5 ms), its RSS
   * before, and the CPU time (user + system, all its threads) it spent meanwhile
   */
  rssDuring<T>(
    work: () => Promise<T>,
  ): Promise<{ value: T; beforeBytes: number; peakBytes: number; cpuMs: number }>;
  close(): Promise<void>;
}

async function startUpstream(
  settings: StreamUpstreamSettings,
): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', UPSTREAM], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  child.stdin.write(`${JSON.stringify(settings)}\n`);
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  return { port: (JSON.parse(line) as { port: number }).port, child };
}

/** The output's last line as JSON; throws with stderr when the client failed. */
async function result<T>({ stdout, stderr, exited }: Client): Promise<T> {
  let out = '';
  let err = '';
  stdout.on('data', (b: Buffer) => (out += b.toString()));
  stderr.on('data', (b: Buffer) => (err += b.toString()));
  const code = await exited;
  if (code !== 0) throw new Error(`the stream client exited ${code}: ${err.trim()}`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as T;
}

/** A process's CPU time so far (user + system, all its threads), in ms, from /proc. */
export function cpuMsOf(pid: number): number {
  // the fields after the command's name, which is in parentheses and may hold spaces
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 a second on Linux)
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** A process's resident set size now, in bytes, from /proc (0 once it is gone). */
export function rssOf(pid: number): number {
  try {
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return kb ? Number(kb[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

interface HostAnswer {
  id?: number;
  ready?: boolean;
  sandbox?: string;
  stdout?: string;
  stderr?: string;
  exit?: number;
  error?: string;
}

/** The engine process (engine-host.mjs): requests out, answers back by id. */
async function startEngineHost(up: UpstreamTarget, pool: string) {
  const home = mkdtempSync(join(tmpdir(), 'airlock-bench-streams-'));
  const child = spawn(process.execPath, [ENGINE_HOST], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  const handlers = new Map<number, (answer: HostAnswer) => void>();
  let nextId = 1;
  let ready: (answer: HostAnswer) => void;
  const first = new Promise<HostAnswer>((resolve) => (ready = resolve));
  createInterface({ input: child.stdout }).on('line', (line) => {
    const answer = JSON.parse(line) as HostAnswer;
    if (answer.ready) ready(answer);
    else if (answer.id !== undefined) handlers.get(answer.id)?.(answer);
  });
  const failed = exited.then(([code]) => {
    throw new Error(`the engine host exited ${String(code)}`);
  });
  failed.catch(() => undefined);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin.end();
      await exited;
    }
    rmSync(home, { recursive: true, force: true });
  };
  // the real key goes through stdin, never argv
  const env = { PATH: process.env.PATH, [KEY_VAR]: up.secret };
  child.stdin.write(`${JSON.stringify({ home, config: benchConfig(up, pool, 'FULL'), env, credentials: [KEY_VAR] })}\n`); // prettier-ignore
  let opened: HostAnswer;
  try {
    opened = await Promise.race([first, failed]);
  } catch (error) {
    await stop();
    throw error;
  }
  /** sends a request; `onAnswer` sees every answer to it, `done` says which one ends it */
  const request = (body: Record<string, unknown>, onAnswer: (a: HostAnswer) => boolean): void => {
    const id = nextId++;
    handlers.set(id, (a) => {
      if (onAnswer(a)) handlers.delete(id);
    });
    child.stdin.write(`${JSON.stringify({ id, ...body })}\n`);
  };
  const call = (body: Record<string, unknown>) =>
    new Promise<HostAnswer>((resolve, reject) =>
      request(body, (a) => {
        if (a.error) reject(new Error(a.error));
        else resolve(a);
        return true;
      }),
    );
  return { pid: child.pid!, sandbox: opened.sandbox!, request, call, stop };
}

/**
 * The upstream (same host name, header and key as `up`, its own port) and an engine process
 * whose bench service points at it, audit FULL as shipped.
 */
export async function openStreamHarness(
  up: UpstreamTarget,
  leaf: { cert: string; key: string },
  pool: string,
): Promise<StreamHarness> {
  const upstream = await startUpstream({ ...leaf, header: up.header, secret: up.secret });
  const stopUpstream = async () => {
    if (upstream.child.exitCode !== null) return;
    const exited = once(upstream.child, 'exit');
    upstream.child.stdin!.end();
    await exited;
  };
  let host: Awaited<ReturnType<typeof startEngineHost>>;
  try {
    host = await startEngineHost({ ...up, port: upstream.port }, pool);
  } catch (error) {
    await stopUpstream();
    throw error;
  }
  const common = { header: up.header };
  const spawnClient = (side: ClientSide, mode: ClientMode): Client => {
    const options =
      side === 'direct'
        ? { ...common, ...mode, base: `https://127.0.0.1:${upstream.port}`, keyEnv: DIRECT_KEY_VAR, host: up.host, caFile: up.caFile } // prettier-ignore
        : { ...common, ...mode, baseEnv: BASE_URL_VAR, keyEnv: KEY_VAR };
    const argv = ['--input-type=module', '-', JSON.stringify(options)];
    if (side === 'direct') {
      const child = spawn(process.execPath, argv, {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, [DIRECT_KEY_VAR]: up.secret }, // the key stays out of argv
      });
      child.stdin.end(CLIENT);
      return {
        stdout: child.stdout,
        stderr: child.stderr,
        exited: once(child, 'exit').then(([code]) => (code as number | null) ?? 1),
      };
    }
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const exited = new Promise<number>((resolve, reject) =>
      host.request({ op: 'spawn', sandbox: side.sandbox, argv: ['node', ...argv], input: CLIENT }, (a) => {
        if (a.stdout !== undefined) stdout.write(a.stdout);
        else if (a.stderr !== undefined) stderr.write(a.stderr);
        else {
          stdout.end();
          stderr.end();
          if (a.error) reject(new Error(a.error));
          else resolve(a.exit!);
          return true;
        }
        return false;
      }),
    );
    return { stdout, stderr, exited };
  };
  return {
    sandbox: { sandbox: host.sandbox },
    async createSandbox() {
      return { sandbox: (await host.call({ op: 'create' })).sandbox! };
    },
    async closeSandbox(ref) {
      await host.call({ op: 'close', sandbox: ref.sandbox });
    },
    spawnClient,
    runClient: (side, mode) => result(spawnClient(side, mode)),
    async rssDuring(work) {
      const cpuBefore = cpuMsOf(host.pid);
      const beforeBytes = rssOf(host.pid);
      let peakBytes = beforeBytes;
      const timer = setInterval(() => (peakBytes = Math.max(peakBytes, rssOf(host.pid))), 5);
      try {
        const value = await work();
        peakBytes = Math.max(peakBytes, rssOf(host.pid));
        return { value, beforeBytes, peakBytes, cpuMs: cpuMsOf(host.pid) - cpuBefore };
      } finally {
        clearInterval(timer);
      }
    },
    async close() {
      try {
        await host.stop();
      } finally {
        await stopUpstream();
      }
    },
  };
}
