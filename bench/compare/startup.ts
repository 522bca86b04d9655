/**
 * The start-up figures of `npm run bench`: wall time of the compiled CLI (`--help`, and
 * `run -- true`, which builds and removes a whole sandbox), and an engine's sandbox
 * create + teardown. Medians of `n` runs each.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../../src/engine/engine.js';
import { commandsStarted } from '../../src/net/run.js';
import { median } from './report.js';

/** Wall time of `node <bin> ...args`, in ms; throws when it fails. */
function wall(bin: string, argv: readonly string[], env: NodeJS.ProcessEnv): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [bin, ...argv], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`airlock ${argv.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
  return ms;
}

export function helpWallMs(bin: string, n: number): number {
  return Number(median(Array.from({ length: n }, () => wall(bin, ['--help'], process.env))).toFixed(1));
}

/** `airlock run -- true` with its own state directory `home` and a config of just `pool`. */
export function runTrueWallMs(bin: string, n: number, home: string, pool: string): number {
  const config = join(home, 'config.json');
  writeFileSync(config, JSON.stringify({ pool }));
  const env = { ...process.env, AIRLOCK_HOME: home };
  return Number(
    median(
      Array.from({ length: n }, () => wall(bin, ['run', '--config', config, '--', 'true'], env)),
    ).toFixed(1),
  );
}

/** `engine.create()` then `close()` of a sandbox with no credential, `n` times: the median in ms, and the processes each spawned. */
export async function createTeardown(engine: Engine, n: number): Promise<{ ms: number; processes: number }> {
  const times: number[] = [];
  const processes: number[] = [];
  for (let i = 0; i < n; i++) {
    const c0 = commandsStarted();
    const t0 = performance.now();
    const sandbox = await engine.create();
    await sandbox.close();
    times.push(performance.now() - t0);
    processes.push(commandsStarted() - c0);
  }
  return { ms: Number(median(times).toFixed(1)), processes: Math.max(...processes) };
}
