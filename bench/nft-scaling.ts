/**
 * Per-packet cost with 1 vs 1,000 sandboxes (bench/compare/per-packet.ts; `npm run bench`
 * reports it too), and sandbox create + close latency. Run as root: `npm run bench:nft`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox } from '../src/sandbox/sandbox.js';
import { openState } from '../src/sandbox/state.js';
import { measurePerPacket } from './compare/per-packet.js';

const home = mkdtempSync(join(tmpdir(), 'airlock-bench-'));
const state = openState(home);
try {
  const t0 = performance.now();
  const lifecycles = 10;
  for (let i = 0; i < lifecycles; i++) await (await Sandbox.create({ state })).close();
  const lifecycleMs = (performance.now() - t0) / lifecycles;
  const perPacket = await measurePerPacket(state, { rounds: 5, connects: 2000 });
  console.log(JSON.stringify({ sandboxCreateAndCloseMs: Math.round(lifecycleMs), ...perPacket }, null, 2));
} finally {
  state.close();
  rmSync(home, { recursive: true, force: true });
}
