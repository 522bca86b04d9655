import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { createFakeUpstream, type FakeUpstream, type UpstreamHandler } from './fake-upstream.js';
import { tempHome } from './sandbox-bench.js';
import { createTestCa, type TestCa } from './test-ca.js';

/** What an `airlock run` test needs to reach fake upstreams for real hostnames. */
export interface SandboxUpstream {
  ca: TestCa;
  upstream: FakeUpstream;
  /** AIRLOCK_HOME for the run */
  home: string;
  /** a config file pinning every hostname to the fake upstream (pass with --config) */
  config: string;
}

/**
 * A fake upstream on 127.0.0.1:443 answering for real hostnames, and a config whose `resolve`
 * pins every one of them there: the proxy never looks a name up, and no packet leaves the
 * machine. `extra` is merged into the config (profiles, …); the test CA is trusted upstream.
 */
export async function sandboxUpstream(
  t: TestContext,
  hostnames: string[],
  handler: UpstreamHandler,
  extra: Record<string, unknown> = {},
): Promise<SandboxUpstream> {
  const ca = createTestCa(t);
  const upstream = await createFakeUpstream({
    ca,
    hostnames,
    handler,
    listen: { host: '127.0.0.1', port: 443 },
    t,
  });
  const home = tempHome(t);
  const config = join(home, 'test.json');
  const resolve = Object.fromEntries(hostnames.map((h) => [h, '127.0.0.1']));
  writeFileSync(config, JSON.stringify({ resolve, upstreamCa: [ca.caFile], ...extra }));
  return { ca, upstream, home, config };
}
