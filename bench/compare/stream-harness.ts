/**
 * What the streaming figures of `npm run bench` share: the streaming TLS upstream in its own
 * process (stream-upstream.ts), an airlock engine in this process whose bench service points
 * at it, and the one client program (stream-client.mjs) run either on the host straight at
 * the upstream ("direct") or inside a sandbox against its reverse route — the same program,
 * each time a fresh process, so both sides pay the same client costs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { EngineSandbox } from '../../src/engine/engine.js';
import { BASE_URL_VAR, KEY_VAR, openAirlockArm, type AirlockArm } from './airlock-arm.js';
import type { UpstreamTarget } from './native-servers.js';
import type { StreamUpstreamSettings } from './stream-upstream.js';

const CLIENT = readFileSync(fileURLToPath(new URL('stream-client.mjs', import.meta.url)), 'utf8');
const UPSTREAM = fileURLToPath(new URL('stream-upstream.ts', import.meta.url));
/** where the direct client finds the real key */
const DIRECT_KEY_VAR = 'BENCH_UPSTREAM_KEY';

/** What one client run does (see stream-client.mjs). */
export type ClientMode =
  | { mode: 'sse'; n: number; intervalMs: number; warm: boolean }
  | { mode: 'download' | 'upload'; bytes: number }
  | { mode: 'many'; streams: number; holdMs: number };

/** Where a client runs: on the host straight at the upstream, or inside this sandbox. */
export type ClientSide = 'direct' | EngineSandbox;

/** A running client: its process (stdout and stderr piped) and its exit status. */
export interface Client {
  child: ChildProcess;
  exited: Promise<number>;
}

export interface StreamHarness {
  /** the engine the airlock side runs in, with one sandbox granted the bench key */
  arm: AirlockArm;
  /** starts the client; its stdout is piped, its program already sent */
  spawnClient(side: ClientSide, mode: ClientMode): Client;
  /** runs the client to its end and returns its JSON result */
  runClient<T>(side: ClientSide, mode: ClientMode): Promise<T>;
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
async function result<T>({ child, exited }: Client): Promise<T> {
  let out = '';
  let err = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
  const code = await exited;
  if (code !== 0) throw new Error(`the stream client exited ${code}: ${err.trim()}`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as T;
}

/**
 * The upstream (same host name, header and key as `up`, its own port) and an engine whose
 * bench service points at it, audit FULL as shipped.
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
  let arm: AirlockArm;
  try {
    arm = await openAirlockArm({ ...up, port: upstream.port }, pool, 'FULL');
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
    let client: Client;
    if (side === 'direct') {
      const child = spawn(process.execPath, argv, {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, [DIRECT_KEY_VAR]: up.secret }, // the key stays out of argv
      });
      client = { child, exited: once(child, 'exit').then(([code]) => (code as number | null) ?? 1) };
    } else {
      const guest = side.spawn(['node', ...argv]);
      client = { child: guest.child, exited: guest.exited };
    }
    client.child.stdin!.end(CLIENT);
    return client;
  };
  return {
    arm,
    spawnClient,
    runClient: (side, mode) => result(spawnClient(side, mode)),
    async close() {
      try {
        await arm.close();
      } finally {
        await stopUpstream();
      }
    },
  };
}

/** The peak of this process's RSS while `work` runs (sampled every 5 ms), and its RSS before. */
export async function rssDuring<T>(
  work: () => Promise<T>,
): Promise<{ value: T; beforeBytes: number; peakBytes: number }> {
  const beforeBytes = process.memoryUsage.rss();
  let peakBytes = beforeBytes;
  const timer = setInterval(() => (peakBytes = Math.max(peakBytes, process.memoryUsage.rss())), 5);
  try {
    const value = await work();
    peakBytes = Math.max(peakBytes, process.memoryUsage.rss());
    return { value, beforeBytes, peakBytes };
  } finally {
    clearInterval(timer);
  }
}
