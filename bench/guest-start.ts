/**
 * What starting a guest command costs, against the kernel's floor measured in the same run:
 * `ip netns exec <ns> true` (enter the network namespace, run a program) vs `sandbox.exec(['true'])`
 * (the same plus the guest's PID/IPC/mount namespaces, its file system view, the system-call
 * filter, the cgroup and the drop to the guest user). Interleaved rounds, medians. Also
 * `Sandbox.create()` + `close()`. Run as root: `npm run bench:guest`.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Sandbox } from '../src/sandbox/sandbox.js';
import { openState } from '../src/sandbox/state.js';

const ROUNDS = 15;
const PER_ROUND = 10;
const run = promisify(execFile);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < PER_ROUND; i++) await fn();
  return (performance.now() - t0) / PER_ROUND;
}

const home = mkdtempSync(join(tmpdir(), 'airlock-bench-'));
const state = openState(home);
try {
  const lifecycle: number[] = [];
  for (let i = 0; i < 5; i++)
    lifecycle.push(await timed(async () => (await Sandbox.create({ state })).close()));
  const sb = await Sandbox.create({ state });
  try {
    const floor: number[] = [];
    const guest: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      floor.push(await timed(() => run('ip', ['netns', 'exec', sb.netns, 'true'])));
      guest.push(
        await timed(async () => {
          const r = await sb.exec(['true']);
          if (r.status !== 0) throw new Error(r.stderr);
        }),
      );
    }
    console.log(
      JSON.stringify(
        {
          netnsExecTrueMs: Number(median(floor).toFixed(1)),
          sandboxExecTrueMs: Number(median(guest).toFixed(1)),
          ratio: Number((median(guest) / median(floor)).toFixed(2)),
          sandboxCreateAndCloseMs: Math.round(median(lifecycle)),
        },
        null,
        2,
      ),
    );
  } finally {
    await sb.close();
  }
} finally {
  state.close();
  rmSync(home, { recursive: true, force: true });
}
