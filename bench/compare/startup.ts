/**
 * The start-up figures of `npm run bench`: wall time of the compiled CLI (`--help`, and
 * `run -- true`, which builds and removes a whole sandbox), and an engine's sandbox
 * create + teardown. Medians of `n` runs each.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../../src/engine/engine.js';
import { countSpawns } from '../../test/helpers/spawn-counter.js';
import { median } from './report.js';

/**
 * The environment a user's shell gives the CLI: this one without the variables that make every
 * Node process start slower. `NODE_EXTRA_CA_CERTS` pointing at the system bundle (as on the
 * development VM) alone costs each Node process ~110 ms before its first line runs.
 */
export function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { NODE_EXTRA_CA_CERTS: _ca, NODE_OPTIONS: _options, ...env } = process.env;
  return { ...env, ...extra };
}

/** Wall time of `node ...argv`, in ms; throws when it fails. */
function wall(argv: readonly string[], env: NodeJS.ProcessEnv): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, argv, {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${argv.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
  return ms;
}

/** `airlock --help`, and `node -e 0` beside it: the floor no CLI in Node goes under. */
export function helpWallMs(bin: string, n: number): { helpMs: number; nodeMs: number } {
  const help: number[] = [];
  const node: number[] = [];
  for (let i = 0; i < n; i++) {
    help.push(wall([bin, '--help'], userEnv()));
    node.push(wall(['-e', '0'], userEnv()));
  }
  return { helpMs: Number(median(help).toFixed(1)), nodeMs: Number(median(node).toFixed(1)) };
}

/**
 * `airlock run -- true` with its own state directory `home` and a config of just `pool`, after
 * one run not counted: the first run in a state directory compiles the CLI and leaves its code
 * cache there (src/cli/code-cache.ts), as a user's first run does.
 */
export function runTrueWallMs(bin: string, n: number, home: string, pool: string): number {
  const config = join(home, 'config.json');
  writeFileSync(config, JSON.stringify({ pool }));
  const env = userEnv({ AIRLOCK_HOME: home });
  wall([bin, 'run', '--config', config, '--', 'true'], env);
  return Number(
    median(
      Array.from({ length: n }, () => wall([bin, 'run', '--config', config, '--', 'true'], env)),
    ).toFixed(1),
  );
}

/**
 * `engine.create()` then `close()` of a sandbox with no credential, `n` times: the median in
 * ms, and the most processes one of them started (counted at Node's ChildProcess and at
 * airlock's own posix_spawn, whichever route started them).
 */
export async function createTeardown(engine: Engine, n: number): Promise<{ ms: number; processes: number }> {
  const times: number[] = [];
  const processes: number[] = [];
  const spawns = countSpawns();
  try {
    for (let i = 0; i < n; i++) {
      const c0 = spawns.count();
      const t0 = performance.now();
      const sandbox = await engine.create();
      await sandbox.close();
      times.push(performance.now() - t0);
      processes.push(spawns.count() - c0);
    }
  } finally {
    spawns.stop();
  }
  return { ms: Number(median(times).toFixed(1)), processes: Math.max(...processes) };
}
