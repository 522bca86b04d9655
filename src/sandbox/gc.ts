import { readdirSync } from 'node:fs';
import { listLinks, listNetns } from '../net/ip.js';
import { allowedEntries } from './firewall.js';
import { HOST_IF_PREFIX, NETNS_PREFIX } from './names.js';
import { NETNS_ETC, ownerAlive, teardownNetwork } from './resources.js';
import type { State } from './state.js';

/** What one gc pass removed. */
export interface GcReport {
  /** sandboxes whose airlock process is gone, torn down and marked ended */
  sandboxes: string[];
  /** namespaces, links and set elements that no live sandbox owns */
  namespaces: string[];
  links: string[];
  elements: string[];
}

/**
 * Finds and removes what crashed runs left behind: live records whose owner process is gone,
 * and any airlock-named namespace, link, set element or /etc/netns folder no live sandbox owns.
 */
export async function collectGarbage(state: State): Promise<GcReport> {
  const report: GcReport = { sandboxes: [], namespaces: [], links: [], elements: [] };
  for (const r of state.sandboxes.live()) {
    if (ownerAlive(r)) continue;
    await teardownNetwork(r);
    state.sandboxes.end(r.id, null);
    report.sandboxes.push(r.id);
  }
  // List the kernel's resources before reading the live records: a sandbox's record is
  // committed before its first resource exists, so nothing seen here can belong to a
  // sandbox that is still being made by another process.
  const netnsNow = await listNetns();
  const linksNow = await listLinks();
  const elementsNow = await allowedEntries();
  let etc: string[] = [];
  try {
    etc = readdirSync(NETNS_ETC);
  } catch {
    // no /etc/netns yet
  }
  const live = state.sandboxes.live();
  const liveNetns = new Set(live.map((r) => r.netns));
  const liveLinks = new Set(live.map((r) => r.hostIf));

  const orphanNetns = new Set(
    [...netnsNow, ...etc].filter((n) => n.startsWith(NETNS_PREFIX) && !liveNetns.has(n)),
  );
  for (const netns of orphanNetns) {
    const hostIf = `${HOST_IF_PREFIX}${netns.slice(NETNS_PREFIX.length)}`;
    await teardownNetwork({ netns, hostIf, gateway: '0.0.0.0', guest: '0.0.0.0', proxyPort: 0 });
    report.namespaces.push(netns);
  }
  for (const link of linksNow) {
    if (!link.startsWith(HOST_IF_PREFIX) || liveLinks.has(link)) continue;
    const netns = `${NETNS_PREFIX}${link.slice(HOST_IF_PREFIX.length)}`;
    await teardownNetwork({ netns, hostIf: link, gateway: '0.0.0.0', guest: '0.0.0.0', proxyPort: 0 });
    report.links.push(link);
  }
  for (const e of elementsNow) {
    if (liveLinks.has(e.hostIf)) continue;
    await teardownNetwork({ netns: `${NETNS_PREFIX}${e.hostIf.slice(HOST_IF_PREFIX.length)}`, ...e });
    report.elements.push(e.hostIf);
  }
  return report;
}
