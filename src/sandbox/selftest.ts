import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listIpv4Addresses } from '../net/ip.js';
import { Sandbox } from './sandbox.js';

/** One line of `airlock doctor --selftest`. */
export interface SelftestCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** the guest half of the self-test, two levels up from src/sandbox or dist/sandbox */
const PROBE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'guest', 'selftest-probe.mjs');
const MEMORY_MB = 96;
const PIDS = 48;

/**
 * Runs a short battery of escape attempts in a real sandbox on this host and reports each:
 * direct egress (TCP v4 and v6, other host ports), DNS, a world-writable unix socket and a
 * world-readable file in a home that it creates on the host, the guest's scratch space, the
 * guest's view of /proc and its privileges, the keyring, and the memory and process limits.
 * Everything it makes is removed, also on failure.
 */
export async function runSelftest(options: {
  home: string;
  invokingEnv: NodeJS.ProcessEnv;
}): Promise<SelftestCheck[]> {
  const cleanup: (() => Promise<void> | void)[] = [];
  try {
    const bait = makeBait(cleanup);
    const sb = await Sandbox.create({
      home: options.home,
      invokingEnv: options.invokingEnv,
      name: 'selftest',
      limits: { memoryBytes: MEMORY_MB * 2 ** 20, pids: PIDS, cpus: null },
      // the probe runs with this airlock's own node, shown read-only
      mounts: [
        { source: realpathSync(process.execPath), target: '/run/airlock-selftest/node', readOnly: true },
        { source: PROBE, target: '/run/airlock-selftest/probe.mjs', readOnly: true },
      ],
    });
    cleanup.push(() => sb.close());
    const listener = await listen(sb.gateway, sb.proxyPort);
    cleanup.push(() => new Promise<void>((resolve) => listener.close(() => resolve())));
    const hostAddress =
      (await listIpv4Addresses()).find((a) => !a.startsWith('127.') && a !== sb.gateway) ?? sb.gateway;
    const targets = {
      gateway: sb.gateway,
      proxyPort: sb.proxyPort,
      hostAddress,
      socketPath: bait.socketPath,
      secretFile: bait.secretFile,
      scratchName: bait.scratchName,
      memoryMb: MEMORY_MB,
      pids: PIDS,
    };
    const run = await sb.exec([
      '/run/airlock-selftest/node',
      '/run/airlock-selftest/probe.mjs',
      JSON.stringify(targets),
    ]);
    let results: Record<string, { ok: boolean; detail: string }>;
    try {
      results = JSON.parse(run.stdout) as typeof results;
    } catch {
      return [
        { name: 'guest probe', ok: false, detail: `exit ${run.status}: ${run.stderr.trim().slice(0, 500)}` },
      ];
    }
    const checks = Object.entries(results).map(([name, r]) => ({ name, ...r }));
    // what only the host can confirm: the guest's files stayed its own, the kernel enforced the limits
    const leaked = ['/tmp', '/dev/shm'].map((d) => join(d, bait.scratchName)).filter((p) => existsSync(p));
    const scratch = checks.find((c) => c.name === 'scratch')!;
    scratch.ok &&= leaked.length === 0;
    scratch.detail +=
      leaked.length === 0 ? '; none of them is on the host' : `; on the host: ${leaked.join(' ')}`;
    const events = sb.events();
    const memory = checks.find((c) => c.name === 'memory')!;
    memory.ok &&= events.oomKills > 0;
    const pids = checks.find((c) => c.name === 'pids')!;
    pids.ok &&= events.forksRefused > 0;
    return checks;
  } finally {
    for (const step of cleanup.reverse()) await step();
  }
}

/** A world-writable unix socket under /tmp and a world-readable file in a home, on the host. */
function makeBait(cleanup: (() => Promise<void> | void)[]) {
  const scratchName = `airlock-selftest-${randomBytes(6).toString('hex')}`;
  const socketDir = mkdtempSync('/tmp/airlock-selftest-');
  chmodSync(socketDir, 0o777);
  cleanup.push(() => rmSync(socketDir, { recursive: true, force: true }));
  const socketPath = join(socketDir, 'open.sock');
  const server = createServer((s) => s.end('reached\n')).listen(socketPath, () =>
    chmodSync(socketPath, 0o777),
  );
  cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const homes = existsSync('/home') ? '/home' : '/root';
  mkdirSync(homes, { recursive: true });
  const home = mkdtempSync(join(homes, 'airlock-selftest-'));
  chmodSync(home, 0o755);
  cleanup.push(() => rmSync(home, { recursive: true, force: true }));
  const secretFile = join(home, '.env');
  writeFileSync(secretFile, `OPENAI_API_KEY=sk-selftest-${scratchName}\n`, { mode: 0o644 });
  cleanup.push(() => {
    for (const dir of ['/tmp', '/dev/shm']) rmSync(join(dir, scratchName), { force: true });
  });
  return { socketPath, secretFile, scratchName };
}

/** The positive control: something listens on the sandbox's proxy port. */
function listen(host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((s) => s.end());
    server.once('error', reject);
    server.listen({ host, port }, () => resolve(server));
  });
}
