/**
 * What the bench scripts that load a proxy share: a free loopback port, the nginx TLS upstream
 * (a throwaway CA, a leaf for the bench host, the real key it requires) and the bare Node
 * passthrough in a process of its own. `defer` registers each cleanup with the caller.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createTestCa, type TestCa } from '../../test/helpers/test-ca.js';
import { startNative, upstreamNginxConfig, type UpstreamTarget } from './native-servers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** registers a cleanup, run when the script ends */
export type Defer = (fn: () => unknown) => void;

/** A loopback port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as { port: number };
  s.close();
  return port;
}

export interface BenchUpstream {
  up: UpstreamTarget;
  ca: TestCa;
  /** the upstream's certificate and key, PEM */
  leaf: { cert: string; key: string };
}

/**
 * nginx as the TLS upstream for `host`, answering only requests whose `header` carries the
 * real key; its files go in `dir` (world-traversable: nginx's workers run as nobody).
 */
export async function startBenchUpstream(
  dir: string,
  host: string,
  header: string,
  defer: Defer,
): Promise<BenchUpstream> {
  const ca = createTestCa();
  defer(() => ca.cleanup());
  const leaf = ca.issue([host]);
  const cert = join(dir, 'upstream.pem');
  const key = join(dir, 'upstream.key');
  writeFileSync(cert, leaf.cert);
  writeFileSync(key, leaf.key, { mode: 0o600 });
  const up: UpstreamTarget = {
    host,
    port: await freePort(),
    header,
    secret: `real-bench-${randomBytes(12).toString('hex')}`,
    caFile: ca.caFile,
  };
  const upDir = join(dir, 'upstream');
  mkdirSync(upDir, { mode: 0o755 });
  const upstream = await startNative(
    'nginx',
    upDir,
    upstreamNginxConfig(upDir, { ...up, cert, key }),
    up.port,
  );
  defer(() => upstream.stop());
  return { up, ca, leaf };
}

/** The bare Node passthrough (node-passthrough.ts) in its own process: its port and pid. */
export async function startNodePassthrough(
  up: UpstreamTarget,
  caPem: string,
  defer: Defer,
): Promise<{ port: number; pid: number }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'bench/compare/node-passthrough.ts')],
    {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  defer(async () => {
    if (child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.stdin.end();
    await exited;
  });
  child.stdin.write(`${JSON.stringify({ ...up, ca: caPem })}\n`);
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  return { port: (JSON.parse(line) as { port: number }).port, pid: child.pid! };
}
