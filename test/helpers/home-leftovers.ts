import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { listInterfaces } from '../../src/net/ip.js';
import { listNetns } from '../../src/net/netns.js';
import { listSandboxCgroups } from '../../src/sandbox/cgroup.js';
import { allowedEntries } from '../../src/sandbox/firewall.js';
import { collectGarbage } from '../../src/sandbox/gc.js';
import { HOST_IF_PREFIX, NETNS_PREFIX } from '../../src/sandbox/names.js';
import { openState } from '../../src/sandbox/state.js';

/**
 * A fresh state directory for sandboxes that other processes make: after the test (by when
 * those processes must have ended) gc removes whatever they left, then the directory goes.
 */
export function sandboxHome(t: TestContext): string {
  const home = mkdtempSync(join(tmpdir(), 'airlock-test-'));
  t.after(async () => {
    const state = openState(home);
    try {
      await collectGarbage(state);
    } finally {
      state.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
  return home;
}

/**
 * What the sandboxes ever recorded in these homes left in the kernel. Unlike `leftovers()`
 * this sees only the test's own sandboxes, whatever else runs on the machine.
 */
export async function leftoversOf(
  homes: readonly string[],
): Promise<{ recorded: number; netns: string[]; links: string[]; elements: string[]; cgroups: string[] }> {
  const ids = new Set(
    homes.flatMap((home) => {
      const state = openState(home);
      try {
        return state.db.prepare('SELECT id FROM sandboxes').pluck().all() as string[];
      } finally {
        state.close();
      }
    }),
  );
  const ours = (prefix: string) => (name: string) =>
    name.startsWith(prefix) && ids.has(name.slice(prefix.length));
  return {
    recorded: ids.size,
    netns: listNetns().filter(ours(NETNS_PREFIX)),
    links: (await listInterfaces()).map((l) => l.name).filter(ours(HOST_IF_PREFIX)),
    elements: allowedEntries()
      .map((e) => e.hostIf)
      .filter(ours(HOST_IF_PREFIX)),
    cgroups: listSandboxCgroups().filter((id) => ids.has(id)),
  };
}
