import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { BIN, startCli, type CliResult } from './cli.js';
import { sandboxHome } from './home-leftovers.js';

export interface TestDaemon {
  child: ChildProcess;
  socket: string;
  home: string;
  /** the daemon's log so far */
  log(): string;
  /** resolves with the daemon's exit status (or signal) */
  exited: Promise<{ status: number | null; signal: NodeJS.Signals | null }>;
  /** runs `airlock ARGS` against this daemon as a separate process */
  cli(args: string[], env?: NodeJS.ProcessEnv): Promise<CliResult>;
}

/** the daemons started on each home, stopped before that home is cleaned */
const daemonsOf = new Map<string, Set<ChildProcess>>();

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const closed = new Promise((resolve) => child.once('close', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await closed;
  clearTimeout(timer);
}

/**
 * A state directory for daemons: after the test, whatever the order of other cleanups, its
 * daemons are stopped (SIGTERM, SIGKILL after 15 s), then gc removes what they left, then
 * the directory goes.
 */
export function daemonHome(t: TestContext): string {
  const daemons = new Set<ChildProcess>();
  // registered first, so it runs first (after-hooks run in order): daemons stop before the gc
  t.after(async () => {
    await Promise.all([...daemons].map(stop));
    daemonsOf.delete(home);
  });
  const home = sandboxHome(t);
  daemonsOf.set(home, daemons);
  return home;
}

/** A folder for a daemon's socket, removed after the test. */
export function socketDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-sock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Starts `airlock daemon` as a child process on a `daemonHome` and resolves once it
 * listens. After the test it is stopped, also when the test failed.
 */
export async function startDaemon(
  t: TestContext,
  options: { home: string; socket: string; args?: string[]; env?: NodeJS.ProcessEnv },
): Promise<TestDaemon> {
  const env = { ...process.env, AIRLOCK_HOME: options.home, AIRLOCK_SOCKET: options.socket, ...options.env };
  const child = spawn(process.execPath, ['--import', 'tsx', BIN, 'daemon', ...(options.args ?? [])], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (b: Buffer) => (log += b.toString()));
  child.stderr.on('data', (b: Buffer) => (log += b.toString()));
  const exited = new Promise<{ status: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (status, signal) => resolve({ status, signal })),
  );
  const daemons = daemonsOf.get(options.home);
  if (daemons === undefined) throw new Error('start test daemons on a daemonHome(t)');
  daemons.add(child);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the daemon did not start in 30 s:\n${log}`)), 30_000);
    const check = () => {
      if (log.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stderr.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the daemon exited before it listened:\n${log}`));
    });
  });
  return {
    child,
    socket: options.socket,
    home: options.home,
    log: () => log,
    exited,
    cli: (args, extra = {}) => {
      const { child: client, done } = startCli(args, {
        AIRLOCK_HOME: options.home,
        AIRLOCK_SOCKET: options.socket,
        ...extra,
      });
      // a client that hangs fails its test instead of holding the run
      const timer = setTimeout(() => client.kill('SIGKILL'), 60_000);
      t.after(() => client.kill('SIGKILL'));
      return done.finally(() => clearTimeout(timer));
    },
  };
}

/**
 * Runs `sh -c SCRIPT` in a daemon's sandbox and returns the HTTP status codes its curls printed
 * (`-w '%{http_code} '`; 0 = no answer). The command must succeed.
 */
export async function execCodes(daemon: TestDaemon, sandbox: string, script: string): Promise<number[]> {
  const r = await daemon.cli(['exec', sandbox, '--', 'sh', '-c', `${script}; true`]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split(' ').map(Number);
}
