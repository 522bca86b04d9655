/**
 * Per-packet cost with 1 vs 1,000 sandboxes: TCP connects/s from a guest to its gateway's
 * proxy port, first with its own element alone in the `allowed` set, then with 999 more.
 * The ratio (1,000 / 1) should stay near 1.0: a sandbox is a set element, not a rule.
 * Also reports sandbox create + close latency. Run as root: `npm run bench:nft`.
 */
import { createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setNetnsSysctls } from '../src/net/ip.js';
import { nftApply } from '../src/net/nft.js';
import { Sandbox } from '../src/sandbox/sandbox.js';
import { openState } from '../src/sandbox/state.js';

const CONNECTS = 2000;
const ROUNDS = 5;
const home = mkdtempSync(join(tmpdir(), 'airlock-bench-'));
const state = openState(home);
const scriptDir = mkdtempSync(join(tmpdir(), 'airlock-bench-script-'));
chmodSync(scriptDir, 0o755);
const script = join(scriptDir, 'connects.mjs');
writeFileSync(
  script,
  `import { connect } from 'node:net';
const [host, port, n] = process.argv.slice(2);
const start = process.hrtime.bigint();
for (let i = 0; i < Number(n); i++) {
  await new Promise((resolve, reject) => {
    const s = connect({ host, port: Number(port) }, () => { s.destroy(); resolve(); });
    s.once('error', reject);
  });
}
console.log(Number(n) / (Number(process.hrtime.bigint() - start) / 1e9));`,
);
chmodSync(script, 0o644);

const dummies = Array.from({ length: 999 }, (_, i) => {
  const a = 10 + Math.floor(i / 250);
  const b = i % 250;
  return `"al-bench${String(i).padStart(3, '0')}" . 10.250.${a}.${b} . 10.251.${a}.${b} . 9090`;
});

async function connectsPerSecond(sb: Sandbox): Promise<number> {
  const out = await sb.exec(['node', script, sb.gateway, String(sb.proxyPort), String(CONNECTS)]);
  if (out.status !== 0) throw new Error(out.stderr);
  return Number(out.stdout);
}

const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  const t0 = performance.now();
  const lifecycles = 10;
  for (let i = 0; i < lifecycles; i++) await (await Sandbox.create({ state })).close();
  const lifecycleMs = (performance.now() - t0) / lifecycles;

  // the guest sees the script's folder (and nothing else of the host's /tmp)
  const sb = await Sandbox.create({
    state,
    mounts: [{ source: scriptDir, target: scriptDir, readOnly: true }],
  });
  const server = createServer((s) => s.destroy());
  await new Promise<void>((resolve) => server.listen(sb.proxyPort, sb.gateway, resolve));
  try {
    // Tens of thousands of short connections from one address would otherwise run out of
    // ephemeral ports (TIME_WAIT) and measure that instead of the ruleset.
    await setNetnsSysctls(sb.netns, { 'net.ipv4.tcp_tw_reuse': '1' });
    // Interleaved rounds, so drift in the machine hits both sides alike.
    const ones: number[] = [];
    const thousands: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      ones.push(await connectsPerSecond(sb));
      await nftApply(`add element inet airlock allowed { ${dummies.join(', ')} }\n`);
      try {
        thousands.push(await connectsPerSecond(sb));
      } finally {
        await nftApply(`delete element inet airlock allowed { ${dummies.join(', ')} }\n`);
      }
    }
    const one = median(ones);
    const thousand = median(thousands);
    const result = {
      sandboxCreateAndCloseMs: Math.round(lifecycleMs),
      connectsPerSecondWith1: Math.round(one),
      connectsPerSecondWith1000: Math.round(thousand),
      ratio: Number((thousand / one).toFixed(3)),
    };
    console.log(JSON.stringify(result, null, 2));
  } finally {
    server.close();
    await sb.close();
  }
} finally {
  state.close();
  rmSync(home, { recursive: true, force: true });
  rmSync(scriptDir, { recursive: true, force: true });
}
