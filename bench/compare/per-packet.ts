/**
 * Per-packet cost with 1 vs 1,000 sandboxes: TCP connects/s from a guest to its gateway's
 * proxy port, first with its own element alone in the `allowed` set, then with 999 more
 * (interleaved rounds, medians). The ratio (1,000 / 1) should stay near 1.0: a sandbox is a
 * set element, not a rule. The extra elements are set entries only: no address of theirs is
 * ever used. Run as root (`npm run bench`, `npm run bench:nft`).
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setNetnsSysctls } from '../../src/net/ip.js';
import { nftApply } from '../../src/net/nft.js';
import { Sandbox } from '../../src/sandbox/sandbox.js';
import type { State } from '../../src/sandbox/state.js';
import { median } from './report.js';

export interface PerPacketFigures {
  connectsPerSecondWith1: number;
  connectsPerSecondWith1000: number;
  /** with 1,000 / with 1 */
  ratio: number;
  rounds: number;
}

const CONNECTS_SCRIPT = `import { connect } from 'node:net';
const [host, port, n] = process.argv.slice(2);
const start = process.hrtime.bigint();
for (let i = 0; i < Number(n); i++) {
  await new Promise((resolve, reject) => {
    const s = connect({ host, port: Number(port) }, () => { s.destroy(); resolve(); });
    s.once('error', reject);
  });
}
console.log(Number(n) / (Number(process.hrtime.bigint() - start) / 1e9));`;

/** 999 `allowed` elements of sandboxes that do not exist (addresses in 10.250/10.251, never routed). */
const DUMMIES = Array.from({ length: 999 }, (_, i) => {
  const a = 10 + Math.floor(i / 250);
  const b = i % 250;
  return `"al-bench${String(i).padStart(3, '0')}" . 10.250.${a}.${b} . 10.251.${a}.${b} . 9090`;
}).join(', ');

export async function measurePerPacket(
  state: State,
  o: { pool?: string; rounds: number; connects: number },
): Promise<PerPacketFigures> {
  const scriptDir = mkdtempSync(join(tmpdir(), 'airlock-bench-script-'));
  try {
    chmodSync(scriptDir, 0o755);
    const script = join(scriptDir, 'connects.mjs');
    writeFileSync(script, CONNECTS_SCRIPT);
    chmodSync(script, 0o644);
    // the guest sees the script's folder (and nothing else of the host's /tmp)
    const sb = await Sandbox.create({
      state,
      ...(o.pool ? { pool: o.pool } : {}),
      mounts: [{ source: scriptDir, target: scriptDir, readOnly: true }],
    });
    const server = createServer((s) => s.destroy());
    try {
      await new Promise<void>((resolve) => server.listen(sb.proxyPort, sb.gateway, resolve));
      // tens of thousands of short connections from one address would otherwise run out of
      // ephemeral ports (TIME_WAIT) and measure that instead of the ruleset
      await setNetnsSysctls(sb.netns, { 'net.ipv4.tcp_tw_reuse': '1' });
      const connectsPerSecond = async () => {
        const out = await sb.exec(['node', script, sb.gateway, String(sb.proxyPort), String(o.connects)]);
        if (out.status !== 0) throw new Error(out.stderr);
        return Number(out.stdout);
      };
      const ones: number[] = [];
      const thousands: number[] = [];
      for (let r = 0; r < o.rounds; r++) {
        ones.push(await connectsPerSecond());
        nftApply(`add element inet airlock allowed { ${DUMMIES} }\n`);
        try {
          thousands.push(await connectsPerSecond());
        } finally {
          nftApply(`delete element inet airlock allowed { ${DUMMIES} }\n`);
        }
      }
      const one = median(ones);
      const thousand = median(thousands);
      return {
        connectsPerSecondWith1: Math.round(one),
        connectsPerSecondWith1000: Math.round(thousand),
        ratio: Number((thousand / one).toFixed(3)),
        rounds: o.rounds,
      };
    } finally {
      server.close();
      await sb.close();
    }
  } finally {
    rmSync(scriptDir, { recursive: true, force: true });
  }
}
