/**
 * airlock as a bench arm: an engine (its own state directory, audit at the given durability)
 * with one custom service whose upstream is the bench's TLS upstream, and one real sandbox
 * granted its key. wrk runs inside the sandbox against `$X_BASE_URL` with the placeholder in
 * `$X_API_KEY`, exactly as a guest's client would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as ConfigModule from '../../src/config/load-config.js';
import type * as EngineModule from '../../src/engine/engine.js';
import type { Engine, EngineSandbox } from '../../src/engine/engine.js';
import type { UpstreamTarget } from './native-servers.js';
import { parseWrk, WRK_SCRIPT, wrkArgs, type WrkOptions, type WrkRun } from './wrk.js';

/** the credential variable of the bench service, and its base-URL variable in the guest */
export const KEY_VAR = 'X_API_KEY';
export const BASE_URL_VAR = 'X_BASE_URL';

/** The config of a bench engine: the bench service, pinned to the loopback upstream, no rate or connection limit. */
export function benchConfig(up: UpstreamTarget, pool: string, synchronous: 'FULL' | 'NORMAL'): unknown {
  return {
    pool,
    services: [
      {
        name: 'bench',
        envVar: KEY_VAR,
        upstream: `https://${up.host}:${up.port}`,
        carrier: { kind: 'header', header: up.header, template: '{secret}' },
        baseUrlVariables: [{ name: BASE_URL_VAR }],
      },
    ],
    resolve: { [up.host]: '127.0.0.1' },
    upstreamCa: [up.caFile],
    limits: { requestsPerSecond: 0, connections: 0 },
    audit: { synchronous },
  };
}

export interface AirlockArm {
  engine: Engine;
  sandbox: EngineSandbox;
  /** one wrk run inside the sandbox (url and headers come from the guest's variables) */
  wrk(o: Omit<WrkOptions, 'url' | 'headers' | 'script'>): Promise<WrkRun>;
  close(): Promise<void>;
}

/** The engine as it ships, compiled into dist/ (bench/compare/tools.ts's buildDist). */
export async function shippedEngine(): Promise<
  Pick<typeof EngineModule, 'Engine'> & Pick<typeof ConfigModule, 'parseConfig'>
> {
  const dist = (file: string) => new URL(`../../dist/${file}`, import.meta.url).href;
  try {
    const [{ Engine }, { parseConfig }] = await Promise.all([
      import(dist('engine/engine.js')) as Promise<typeof EngineModule>,
      import(dist('config/load-config.js')) as Promise<typeof ConfigModule>,
    ]);
    return { Engine, parseConfig };
  } catch (cause) {
    throw new Error('the bench runs the engine from dist/: run `npm run build` first', { cause });
  }
}

export async function openAirlockArm(
  up: UpstreamTarget,
  pool: string,
  synchronous: 'FULL' | 'NORMAL',
): Promise<AirlockArm> {
  const { Engine: ShippedEngine, parseConfig } = await shippedEngine();
  const home = mkdtempSync(join(tmpdir(), `airlock-bench-${synchronous.toLowerCase()}-`));
  let engine: Engine | undefined;
  try {
    engine = await ShippedEngine.open({
      home,
      config: parseConfig(benchConfig(up, pool, synchronous)),
      invokingEnv: { PATH: process.env.PATH, [KEY_VAR]: up.secret },
    });
    const sandbox = await engine.create({ credentials: [KEY_VAR] });
    const opened = engine;
    return {
      engine,
      sandbox,
      async wrk(o) {
        // the script goes in through stdin (the guest's /tmp is its own); the URL and key come
        // from the guest's variables, first (getopt moves them before the script's arguments)
        const args = wrkArgs({ ...o, url: 'URL', headers: [], script: '/tmp/wrk.lua' });
        const out = await sandbox.exec(
          [
            'sh',
            '-c',
            `cat > /tmp/wrk.lua && exec wrk -H "${up.header}: $${KEY_VAR}" "$${BASE_URL_VAR}/v1/bench" "$@"`,
            'sh',
            ...args.filter((a) => a !== 'URL'),
          ],
          { input: WRK_SCRIPT },
        );
        if (out.exitCode !== 0) throw new Error(`wrk in the sandbox exited ${out.exitCode}: ${out.stderr}`);
        return parseWrk(out.stdout);
      },
      async close() {
        try {
          await opened.close();
        } finally {
          rmSync(home, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    await engine?.close().catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
    throw error;
  }
}
